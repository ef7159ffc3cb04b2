"""SageMaker's built-in XGBoost algorithm, as its container defines it, independent of where it runs.

The contract both targets share: which hyperparameters the algorithm accepts (hyperparameters.py), which
data formats it reads for training (data_formats.py) and serving (serving.py), the metrics it reports
(metrics.py), and its training loop and model artifact (training.py); the image itself comes from
sagemaker-core's image_uris (pipeline/train.py). The pipeline validates against it before it spends anything on either target; the
emulator executes it. Nothing here imports the pipeline or the emulator, and the light modules
(hyperparameters, tuning) import no xgboost.
"""
