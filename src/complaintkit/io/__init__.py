"""Tables in and out: checked readers, atomic writers, and the rules for output paths.

Nothing is imported until a name is used.
"""

from .._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, {
    **dict.fromkeys(["atomic_write", "check_output_path"], ".files"),
    **dict.fromkeys(["OutputLock", "check_bundle_target", "check_distinct", "check_distinct_uris",
                     "check_input_file", "claim_outputs",
                     "same_file"], ".paths"),
    **dict.fromkeys(["FORMATS", "LINE_NUMBER", "MALFORMED", "RAW_LINE", "check_column_names",
                     "checked_csv_records", "csv_delimiter", "iter_parquet_batches", "iter_table", "json_line_kind",
                     "join_text_columns", "no_rows_error", "parquet_row_groups", "parquet_schema", "read_table",
                     "require_columns", "table_format"], ".readers"),
    "estimate_rows": ".row_count",
    **dict.fromkeys(["FORMULA_POLICIES", "neutralise_formula", "neutralise_frame"], ".spreadsheet"),
    "write_table": ".writers",
})
__all__ = __dir__()
