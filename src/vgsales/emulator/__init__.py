"""The local target: moto, patched so that SageMaker training and hosting really execute.

Layout:
- server.py     HTTPS on loopback (cheroot) serving every AWS API the project uses
- tls.py        a throw-away certificate authority per start, so clients verify TLS via AWS_CA_BUNDLE
- compat/       fixes for moto's gaps that Terraform and the SageMaker SDK hit, one module per area
- training.py   CreateTrainingJob runs the built-in XGBoost algorithm for real (../algorithm: the algorithm);
                distributed.py and worker.py run a multi-instance job as worker processes in XGBoost's collective
- tuning.py     CreateHyperParameterTuningJob runs a real search (tuning_request.py, tuning_search.py)
- transform.py  CreateTransformJob runs batch transform for real
- hosting.py    endpoints load the model artifact and InvokeEndpoint serves real predictions
- catalogue.py  every other SageMaker operation is refused by name, never faked
- daemon.py     runs the server in the background so separate invoke commands share it
"""
