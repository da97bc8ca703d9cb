"""MLflow "model from code" entry point: logged as the pyfunc's code, run when the model loads."""

import mlflow.models

from complaintkit.tracking.pyfunc import ComplaintkitModel

mlflow.models.set_model(ComplaintkitModel())
