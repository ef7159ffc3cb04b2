"""The local target: moto, patched so that SageMaker training and hosting really execute.

Layout:
- server.py    the HTTP server on loopback that serves every AWS API the project uses
- compat.py    fixes for moto's gaps that Terraform and the SageMaker SDK hit
- training.py  CreateTrainingJob runs the built-in XGBoost algorithm for real
- hosting.py   endpoints load the model artifact and InvokeEndpoint serves real predictions
- daemon.py    runs the server in the background so separate invoke commands share it
"""
