"""Content types of XGBoost, as aws/sagemaker-xgboost-container v3.0-5
src/sagemaker_xgboost_container/constants/xgb_content_types.py names them."""

X_LIBSVM = "text/x-libsvm"
LIBSVM = "text/libsvm"
X_PARQUET = "application/x-parquet"
X_RECORDIO_PROTOBUF = "application/x-recordio-protobuf"
