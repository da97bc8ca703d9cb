from complaintkit import Bundle


def test_trained_bundle_has_both_heads(trained_bundle: Bundle) -> None:
    assert set(trained_bundle.heads) == {"root_cause", "churn"}
    assert list(trained_bundle.root_cause.classes_) == ["billing_error", "service_failure", "staff_attitude"]
