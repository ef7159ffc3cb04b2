"""Judging a model on the held-out test split: what `invoke evaluate` and the notebooks' evaluation show.

- scoring.py    the test split in batches to a prediction callable (an endpoint), scores back in order
- metrics.py    confusion matrix, accuracy, precision, recall, F1, ROC AUC (scikit-learn), and the whole
                evaluation run: score, compute, write metrics.json, plots and the report
- plots.py      confusion matrix and ROC curve figures (matplotlib)
- report.py     report.md beside the workshop's published result
- tradeoff.py   the notebooks' threshold trade-off: precision against recall
"""
