import pytest

from complaintkit import TrainConfig
from complaintkit.exceptions import InputError


def test_to_dict_from_dict_round_trip() -> None:
    config = TrainConfig(text_cols=("title", "text"), label_col="cause", churn_col="churned",
                         numeric_cols=("tenure",), speakers=("customer",), redact=("email",))
    restored = TrainConfig.from_dict(config.to_dict())
    assert restored == config and restored.text_cols == ("title", "text")


def test_from_dict_refuses_unknown_options() -> None:
    with pytest.raises(InputError, match=r"unknown training options \['labels'\]"):
        TrainConfig.from_dict({"labels": "cause"})


@pytest.mark.parametrize(("options", "message"), [
    ({}, "nothing to train"),
    ({"label_col": "c", "review_precision": 1.5}, "review precision must be between 0 and 1"),
    ({"parent_col": "p", "churn_col": "y"}, "needs --label-col"),
    ({"label_col": "c", "numeric_cols": ("tenure",)}, "add --churn-col"),
    ({"label_col": "c", "calibration": "platt"}, "calibration must be one of .*got 'platt'"),
    ({"label_col": "c", "long_texts": "tail"}, "long_texts must be one of .*got 'tail'"),
    ({"label_col": "c", "n_jobs": 0}, "n_jobs 0 runs nothing"),
    ({"churn_col": "y", "drop_doubtful_labels": True}, "it needs --label-col"),
])
def test_invalid_configs_are_refused(options: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        TrainConfig(**options)
