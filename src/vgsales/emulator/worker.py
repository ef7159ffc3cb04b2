"""One host of a multi-instance training job: `python -m vgsales.emulator.worker <spec.json>`.

distributed.py starts one of these per host (algo-1 ... algo-N) and a RabitTracker; each joins XGBoost's collective
(the tracker and communicator the SageMaker XGBoost container uses, xgboost.collective), loads its own share of
the channels and trains, so that every boosting round's histograms are all-reduced across the hosts and all of
them grow the same trees. Evaluation metrics are all-reduced too. The master (rank 0, algo-1) writes the model.

It prints the round lines the container logs (``[3]#011train-auc:...``) and any other log line on stdout, and
its result as the last line, ``RESULT_MARK {json}``. It imports xgboost and the algorithm package only: no moto.
"""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path

RESULT_MARK = "@@vgsales-worker-result"


def main(spec_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    from xgboost import collective

    from ..algorithm import data_formats, training
    from ..algorithm.hyperparameters import training_plan

    def files(channel: str) -> list[data_formats.DataFile] | None:
        paths = spec["files"].get(channel)
        if not paths:
            return None
        return [data_formats.DataFile(uri, Path(path).read_bytes()) for uri, path in paths]

    version = spec.get("version")  # the image's algorithm version, as the parent planned the job with it
    plan = training_plan(spec["hyperparameters"], tuple(version) if version else None)
    plan.params.setdefault("nthread", spec["nthread"])  # the hosts share this machine's cores
    # Rank by task id: algo-1 is rank 0, the master, as the container's hosts are sorted (distributed.py).
    with collective.CommunicatorContext(**spec["tracker"], dmlc_task_id=str(spec["rank"])):
        # Loaded inside the collective, as the container does: XGBoost then agrees on the number of features
        # across hosts, whose shares need not mention the same last feature.
        data = data_formats.load_training_data(files("train"), files("validation"), spec["data_format"], plan.csv_weights)
        print(f"Train matrix has {data.train.num_row()} rows and {data.train.num_col()} columns", flush=True)
        outcome = training.train(plan, data, lambda line: print(line, flush=True))
        if collective.get_rank() == 0:
            Path(spec["model_path"]).write_bytes(training.model_archive(outcome.booster))
        world = collective.get_world_size()
    peak = _peak_resident_kib()
    print(f"Host {spec['host']}: {outcome.rounds} rounds on {data.train.num_row()} rows; peak resident memory {peak / 1024:.0f} MiB",
          flush=True)
    result = {
        "rank": spec["rank"],
        "world_size": world,
        "rounds": outcome.rounds,
        "final_metrics": outcome.final_metrics,
        "rows": data.train.num_row(),
        "peak_rss_kib": peak,
    }
    print(f"{RESULT_MARK} {json.dumps(result)}", flush=True)
    return 0


def _peak_resident_kib() -> int:
    """This process's own high-water mark (VmHWM). Not getrusage's ru_maxrss: Linux carries the parent's peak
    over fork and exec into it, so every worker would report the emulator's."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
