"""The local target: moto, with SageMaker training, tuning, transform and hosting that really execute.

Layout:
- server.py     HTTPS on loopback serving every AWS API the project uses, and the proxy for AWS hostnames
- listener.py   the connections (asyncio): no slow, idle or other user's client can stall them
- admission.py  what a request must show before its body is read: an issued key, a size its operation takes
- services.py   the one place the emulator meets moto: its backend and response classes, registered in order
- sagemaker.py  the SageMaker backend (owning its jobs and endpoints) and response, made of the parts below
- lifecycle.py  the one job lifecycle (start, stop, end) and the registry of runs on the backend
- training.py   CreateTrainingJob runs the built-in XGBoost algorithm for real (../algorithm: the algorithm);
                distributed.py and worker.py run a multi-instance job as worker processes in XGBoost's collective
- tuning.py     CreateHyperParameterTuningJob runs a real search (tuning_request.py, tuning_search.py)
- transform.py  CreateTransformJob runs batch transform for real
- hosting.py    endpoints load the model artifact and InvokeEndpoint serves real predictions
- catalogue.py  every other SageMaker operation is refused by name at dispatch, never faked
- compat/       fixes for moto's gaps that Terraform and the SDK hit, one module per area
- access.py     IAM enforced as AWS enforces it, and the emulator's keys
- tls.py        a throw-away certificate authority per start, so clients verify TLS via AWS_CA_BUNDLE
- daemon.py     runs the server in the background so separate invoke commands share it
"""
