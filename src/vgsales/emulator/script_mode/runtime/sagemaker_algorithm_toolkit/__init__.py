"""sagemaker_algorithm_toolkit as aws/sagemaker-xgboost-container v3.0-5 ships it (src/sagemaker_algorithm_toolkit):
only its exceptions, which sagemaker_xgboost_container raises to scripts."""
