"""
pytest plugin for the reference test suite: tests that need a database server which
is not reachable on this machine are skipped (with the address they would use)
instead of failing on a connection error.

APScheduler's own fixtures connect to each server's default address on localhost;
scripts/services.sh starts the servers Debian packages (Redis, ZooKeeper, etcd) there.
MongoDB and RethinkDB have no Debian package, so their tests normally skip.
"""

import socket

import pytest

# job store fixture -> (server, port on localhost)
SERVERS = {
    "mongodbjobstore": ("MongoDB", 27017),
    "redisjobstore": ("Redis", 6379),
    "rethinkdbjobstore": ("RethinkDB", 28015),
    "zookeeperjobstore": ("ZooKeeper", 2181),
    "etcdjobstore": ("etcd", 2379),
}

# Tests that connect to a server without one of the fixtures above.
TESTS_NEEDING = {
    "test_zookeeper_client_ref": "zookeeperjobstore",
    "test_zookeeper_client_keep_open": "zookeeperjobstore",
    "test_etcd_client_ref": "etcdjobstore",
}

_reachable = {}


def reachable(port):
    if port not in _reachable:
        try:
            socket.create_connection(("localhost", port), timeout=1).close()
            _reachable[port] = True
        except OSError:
            _reachable[port] = False
    return _reachable[port]


def pytest_collection_modifyitems(config, items):
    for item in items:
        needed = set(item.fixturenames)
        callspec = getattr(item, "callspec", None)
        if callspec is not None:
            needed.update(v for v in callspec.params.values() if isinstance(v, str))
        name = item.originalname or item.name
        if name in TESTS_NEEDING:
            needed.add(TESTS_NEEDING[name])
        for fixture in sorted(needed & SERVERS.keys()):
            server, port = SERVERS[fixture]
            if not reachable(port):
                item.add_marker(
                    pytest.mark.skip(reason=f"no {server} server on localhost:{port}")
                )
                break
