"""Distributed XGBoost over Rabit, as aws/sagemaker-xgboost-container v3.0-5 src/sagemaker_xgboost_container/distributed.py
runs it with xgboost.collective and xgboost.tracker.RabitTracker: rabit_run joins every host once to learn which
have data (a host without exits 0 with a warning), then the hosts with data again, one port up, and runs exec_fun
in that collective; the alphabetically first host is the master and runs the tracker; a host first waits for the
tracker's port to accept a connection, then calls collective.init (whose dmlc_timeout, the container's
connect_retry_timeout, bounds the wait for the other hosts to join).

Local differences (every host of a job runs on this machine):
- a host name of the job resolves to 127.0.0.1 (vgsales_script_local.lookup), where the container's resolves
  through the cluster's DNS;
- the default port, 9099 in the container, is VGSALES_RABIT_PORT's when set (the second collective uses it + 1, as
  the container uses the first's + 1); a first_port or second_port the script gives is used as given;
- when VGSALES_COLLECTIVE_DIR is set, Rabit.start() writes an empty <dir>/<current_host>.waiting before it looks
  for the tracker (removing a .joined of an earlier collective) and <dir>/<current_host>.joined once
  collective.init returned, each created under another name and renamed into place, for the emulator's supervisor;
- a host that waits for the tracker between its attempts (connect_retry_timeout, 10 s by default) stops waiting
  as soon as the tracker's port accepts, and makes its next attempt then. In the container a host that tried just
  before the tracker started comes back a whole connect_retry_timeout later, which is also how long the master's
  collective.init waits for it: on AWS the hosts' timing leaves room for that, on one busy machine it need not, and
  the join would fail (or take ten seconds) for no reason of the script's. Attempts, their log lines and every
  bound are the container's;
- when VGSALES_RABIT_JOIN_SECONDS is set, a host waits that long at most for the tracker to accept (the container
  waits without end when max_connect_attempts is None) and its error, as a failed collective.init's, names the
  hosts it waited for. The tracker itself gets no timeout: XGBoost's counts the shutdown too, and would fail a
  master that works on after training for longer (xgboost 3.2 RabitTracker(timeout=...)).
The container's logging.basicConfig(format="%(name) [host]: %(message)s") is kept. It is not a valid format: when it
is the first logging configuration of the script's process, a record that reaches it prints as "--- Logging error
---" with the message below, as it does on SageMaker (a script that logged before, or called get_dmatrix, which
logs through the root logger, has the default format instead).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import time
from threading import Thread

from vgsales_script_local import lookup
from xgboost import collective
from xgboost.core import XGBoostError
from xgboost.tracker import RabitTracker

LOCAL_HOSTNAME = "127.0.0.1"
DEFAULT_PORT = 9099
PORT_ENV = "VGSALES_RABIT_PORT"
COLLECTIVE_DIR_ENV = "VGSALES_COLLECTIVE_DIR"
JOIN_SECONDS_ENV = "VGSALES_RABIT_JOIN_SECONDS"
TRACKER_POLL_SECONDS = 0.1


def _dns_lookup(host):
    """Retrying dns lookup on host (a host of the job: 127.0.0.1)."""
    return lookup(host)


def wait_hostname_resolution(sm_hosts):
    """Wait until every host of the training cluster resolves."""
    for host in sm_hosts:
        _dns_lookup(host)


def rabit_run(
    exec_fun,
    args,
    include_in_training,
    hosts,
    current_host,
    first_port=None,
    second_port=None,
    max_connect_attempts=None,
    connect_retry_timeout=10,
    update_rabit_args=False,
):
    """Run exec_fun(**args) in a collective of the hosts that have data.

    :param exec_fun: run while the collective is up (xgb.train() must run in this process to use it)
    :param args: its keyword arguments; with update_rabit_args, is_master is added
    :param include_in_training: whether this host has data; a host without exits 0 after the first collective
    :param hosts: the job's hosts
    :param current_host: this host
    :param first_port: the first collective's port (default 9099; VGSALES_RABIT_PORT's here)
    :param second_port: the second's (default: the first's + 1)
    :param max_connect_attempts: attempts to reach the tracker (None: without end)
    :param connect_retry_timeout: seconds between attempts, and collective.init's dmlc_timeout
    :param update_rabit_args: add is_master to args
    """
    with Rabit(
        hosts=hosts,
        current_host=current_host,
        port=first_port,
        max_connect_attempts=max_connect_attempts,
        connect_retry_timeout=connect_retry_timeout,
    ) as rabit_ctx:
        hosts_with_data = rabit_ctx.synchronize(
            {"host": rabit_ctx.current_host, "include_in_training": include_in_training}
        )
        hosts_with_data = [record["host"] for record in hosts_with_data if record["include_in_training"]]

        # Keep track of port used, so that hosts trying to shutdown know when server is not available
        previous_port = rabit_ctx.master_port

    if not include_in_training:
        logging.warning("Host {} not being used for distributed training.".format(current_host))
        sys.exit(0)

    second_rabit_port = second_port if second_port else previous_port + 1

    if len(hosts_with_data) > 1:
        # Set up rabit with nodes that have data and an unused port so that previous slaves don't confuse it
        # with the previous rabit configuration
        logging.info(f"SECOND_RABIT_DEBUG: hosts_with_data={hosts_with_data}, current_host={current_host}")

        with Rabit(
            hosts=hosts_with_data,
            current_host=current_host,
            port=second_rabit_port,
            max_connect_attempts=max_connect_attempts,
            connect_retry_timeout=connect_retry_timeout,
        ) as cluster:
            if update_rabit_args:
                logging.info(
                    f"RABIT_DEBUG: \
                             cluster.is_master={cluster.is_master}, \
                            current_host={current_host}"
                )

                args.update({"is_master": cluster.is_master})
            exec_fun(**args)

    elif len(hosts_with_data) == 1:
        logging.debug(
            "Only 1 host with training data, " "starting single node training job from: {}".format(current_host)
        )
        if update_rabit_args:
            args.update({"is_master": True})
        exec_fun(**args)

    else:
        raise RuntimeError("No hosts received training data.")


class RabitHelper:
    def __init__(self, is_master, current_host, master_port):
        """What the Rabit context manager returns: is_master, current_host, master_port, rank, world_size, and
        synchronize() to share data with every host."""
        self.is_master = is_master  # Store hostname-based master determination
        self.current_host = current_host
        self.master_port = master_port
        self._id = int(time.time() * 1000000) % 1000000  # Unique ID for debugging
        logging.info(
            f"RABIT_HELPER_INIT: Created RabitHelper {self._id} with is_master={self.is_master} for host={current_host}"
        )

        try:
            self.rank = collective.get_rank()
            self.world_size = collective.get_world_size()
        except Exception:
            logging.error("collective init failed", exc_info=True)
            self.rank = 0
            self.world_size = 1

    def synchronize(self, data):
        """Send data to every host; returns every host's data, in rank order."""
        # For single node or when collective is not initialized, just return the data
        if self.world_size == 1:
            return [data]

        try:
            collective.get_rank()  # Test if collective is initialized
        except Exception:
            logging.error("collective get_rank failed", exc_info=True)
            return [data]

        results = []
        data_str = json.dumps(data)
        for i in range(self.world_size):
            if self.rank == i:
                logging.info("Broadcasting data from self ({}) to others".format(self.rank))
                collective.broadcast(data_str, i)
                results.append(data)
            else:
                logging.info("Receiving data from {}".format(i))
                message_str = collective.broadcast("", i)
                message = json.loads(message_str) if message_str else None
                results.append(message)
        return results


class Rabit:
    @staticmethod
    def _get_logger(current_host):
        logging.basicConfig(format="%(name) [{}]: %(message)s".format(current_host))
        return logging.getLogger("RabitContextManager")

    def __init__(
        self, hosts, current_host=None, master_host=None, port=None, max_connect_attempts=None, connect_retry_timeout=3
    ):
        """Context manager for the collective of ``hosts``.

        :param hosts: List of hostnames
        :param current_host: Current hostname. If not provided, use 127.0.0.1.
        :param master_host: the tracker's host; by default the alphabetically first of hosts.
        :param port: the tracker's port; by default 9099 (VGSALES_RABIT_PORT's here).
        :param max_connect_attempts: times to try reaching the tracker (None: without end).
        :param connect_retry_timeout: seconds between attempts, and collective.init's dmlc_timeout.
        """
        if not current_host:
            current_host = LOCAL_HOSTNAME
        self.current_host = current_host
        self.logger = self._get_logger(self.current_host)
        self.logger.debug("Found current host.")

        self.hosts = sorted(hosts)
        self.n_workers = len(self.hosts)
        self.logger.debug("Found hosts: {} [{}]".format(self.hosts, self.n_workers))

        if not master_host:
            master_host = self.hosts[0]
        self.master_host = master_host
        self.is_master_host = self.current_host == self.master_host

        self.logger.debug("Is Master: {}".format(self.is_master_host))
        self.logger.debug("Master: {}".format(self.master_host))

        if port is None:
            port = int(os.environ.get(PORT_ENV) or DEFAULT_PORT)
            self.logger.debug("No port specified using: {}".format(port))
        else:
            self.logger.debug("Using provided port: {}".format(port))
        self.port = port

        if max_connect_attempts is None or max_connect_attempts > 0:
            self.max_connect_attempts = max_connect_attempts
        else:
            raise ValueError("max_connect_attempts must be None or an integer greater than 0.")
        self.connect_retry_timeout = connect_retry_timeout

    def start(self):
        """Join the collective: the tracker on the master, then collective.init on every host.

        :return: a RabitHelper (is_master, master_port, synchronize)
        """
        self.logger.debug("Starting collective communication.")
        self.tracker = None
        self.tracker_thread = None

        # For single node, skip collective initialization
        if self.n_workers == 1:
            self.logger.debug("Single worker detected, skipping collective init")
            return RabitHelper(True, self.current_host, self.port)

        join_seconds = _join_seconds()
        try:
            # Launch tracker on master only
            if self.is_master_host:
                self.tracker = RabitTracker(
                    host_ip=str(_dns_lookup(self.master_host)),
                    n_workers=int(self.n_workers),
                    port=int(self.port),
                    sortby="task",
                )
                self.tracker.start()
                self.tracker_thread = Thread(target=self.tracker.wait_for)
                self.tracker_thread.daemon = True
                self.tracker_thread.start()
                self.logger.info(f"RabitTracker worker_args: {self.tracker.worker_args()}")

            self.logger.info(
                f"MASTER_DEBUG_FIXED: Using hostname logic: \
                    current_host={self.current_host}, \
                        master_host={self.master_host}, \
                            is_master={self.is_master_host}, \
                                port={self.port}"
            )

            _mark(self.current_host, "waiting")
            started = time.monotonic()
            attempt = 0
            successful_connection = False
            while not successful_connection and (
                self.max_connect_attempts is None or attempt < self.max_connect_attempts
            ):
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                    try:
                        self.logger.debug("Checking if RabitTracker is available.")
                        s.connect((_dns_lookup(self.master_host), self.port))
                        successful_connection = True
                        self.logger.debug("Successfully connected to RabitTracker.")
                    except OSError:
                        self.logger.info("Failed to connect to RabitTracker on attempt {}".format(attempt))
                        attempt += 1
                        left = None if join_seconds is None else join_seconds - (time.monotonic() - started)
                        if left is not None and left <= 0:
                            raise Exception(
                                f"Failed to connect to Rabit Tracker, current_host={self.current_host}: the tracker "
                                f"on {self.master_host} ({LOCAL_HOSTNAME}:{self.port}) did not accept within "
                                f"{join_seconds:g} s ({JOIN_SECONDS_ENV}). " + self._waited_for([self.master_host])
                            ) from None
                        self.logger.info("Sleeping for {} sec before retrying".format(self.connect_retry_timeout))
                        self._sleep_until_tracker(
                            self.connect_retry_timeout if left is None else min(self.connect_retry_timeout, left)
                        )

            if not successful_connection:
                self.logger.error("Failed to connect to Rabit Tracker after %s attempts", self.max_connect_attempts)
                raise Exception(f"Failed to connect to Rabit Tracker, current_host={self.current_host}")
            else:
                self.logger.info(f"Connected to RabitTracker, current_host={self.current_host}")

            # Initialize collective for synchronization
            try:
                collective.init(
                    dmlc_tracker_uri=str(_dns_lookup(self.master_host)),
                    dmlc_tracker_port=int(self.port),
                    dmlc_task_id=str(self.hosts.index(self.current_host)),
                    dmlc_retry=self.max_connect_attempts,
                    dmlc_timeout=self.connect_retry_timeout,
                )
            except XGBoostError as e:
                if join_seconds is None:
                    raise
                said = next((line.split("]:")[-1].strip() for line in str(e).splitlines() if "Failed" in line), str(e))
                raise XGBoostError(
                    f"{self.current_host} could not join XGBoost's collective: {said} Its collective.init waited "
                    f"{self.connect_retry_timeout:g} s (rabit_run's connect_retry_timeout) for the other hosts to join "
                    f"through the tracker on {self.master_host} ({LOCAL_HOSTNAME}:{self.port}). "
                    + self._waited_for([host for host in self.hosts if host != self.current_host])
                ) from e
            _mark(self.current_host, "joined")

        except Exception as e:
            self.logger.error(f"{self.current_host} collective init failed", exc_info=True)
            self._cleanup_tracker()
            raise e

        self.logger.info(f"RABIT_START_DEBUG: Creating RabitHelper with is_master={self.is_master_host}")
        return RabitHelper(self.is_master_host, self.current_host, self.port)

    def _sleep_until_tracker(self, seconds):
        """time.sleep(seconds), ended as soon as the tracker's port accepts a connection (see the docstring)."""
        deadline = time.monotonic() + seconds
        address = (_dns_lookup(self.master_host), self.port)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(TRACKER_POLL_SECONDS, left))
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                if probe.connect_ex(address) == 0:
                    return

    def _waited_for(self, hosts):
        return (
            f"{self.current_host} waited for {', '.join(hosts)}, of the hosts {self.hosts}: every host of the job must "
            "call rabit_run within that time of the others."
        )

    def stop(self):
        """Shutdown collective communication."""
        self.logger.info(f"Shutting down collective, current_host={self.current_host}")

        try:
            collective.finalize()
        except Exception:
            self.logger.error(f"{self.current_host} collective finalize failed", exc_info=True)

        # Wait for tracker thread to finish
        if self.tracker_thread is not None:
            try:
                self.tracker_thread.join(timeout=1.0)
            except Exception as e:
                self.logger.debug("Tracker thread join failed: {}".format(e))
            finally:
                self.tracker_thread = None

        self._cleanup_tracker()

    def _cleanup_tracker(self):
        """Clean up tracker safely."""
        if self.tracker is not None:
            try:
                self.tracker.free()
            except Exception as e:
                self.logger.debug("Tracker cleanup failed: {}".format(e))
            finally:
                self.tracker = None

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc_value, exc_traceback):
        self.stop()


def _join_seconds():
    value = os.environ.get(JOIN_SECONDS_ENV)
    return float(value) if value else None


def _mark(host, state):
    """<VGSALES_COLLECTIVE_DIR>/<host>.<state>, empty, created under another name and renamed into place; a
    .waiting host's .joined of an earlier collective is removed first."""
    folder = os.environ.get(COLLECTIVE_DIR_ENV)
    if not folder:
        return
    if state == "waiting":
        try:
            os.remove(os.path.join(folder, f"{host}.joined"))
        except FileNotFoundError:
            pass
    partial = os.path.join(folder, f".{host}.{state}.{os.getpid()}")
    with open(partial, "w"):
        pass
    os.replace(partial, os.path.join(folder, f"{host}.{state}"))
