"""The SageMaker video game hit prediction workshop as code."""

__version__ = "0.1.0"
