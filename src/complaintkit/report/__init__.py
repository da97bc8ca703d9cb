"""Reports over scored tables: aggregation, drift, emerging issues, rendering. Reads only scored
tables, never the model. Nothing is imported until a name is used."""

from .._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, {
    "build_report": ".aggregate",
    "training_profile": "..data_profile",
    **dict.fromkeys(["load_state", "save_state"], ".emerging"),
    **dict.fromkeys(["render_html", "write_report"], ".render"),
    "report_file": ".run",
})
__all__ = __dir__()
