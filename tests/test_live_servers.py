"""The throwaway servers the live checks compare models with: started on loopback, configured as asked,
gone after stop."""

import socket

import pytest

from tests.live import require_binary
from tuner.errors import CachetuneError
from tuner.live import servers


def _reachable(port: int) -> bool:
    try:
        socket.create_connection((servers.LOOPBACK, port), timeout=0.5).close()
        return True
    except OSError:
        return False


def test_redis_starts_with_its_configuration_and_stops():
    require_binary("redis-server")
    import redis

    with servers.start_redis({"maxmemory": 4_000_000, "maxmemory-policy": "allkeys-lfu"}) as server:
        client = redis.Redis.from_url(server.url)
        assert client.config_get("maxmemory") == {"maxmemory": "4000000"}
        assert client.config_get("maxmemory-policy") == {"maxmemory-policy": "allkeys-lfu"}
        assert client.config_get("save") == {"save": ""}
        client.set("k", "v")
        assert client.get("k") == b"v"
        client.close()
    assert not _reachable(server.port)
    assert not server.workdir.exists()


def test_memcached_starts_with_its_arguments_and_stops():
    require_binary("memcached")
    from pymemcache.client.base import Client

    with servers.start_memcached(["-m", "8", "-f", "1.5"]) as server:
        client = Client((servers.LOOPBACK, server.port))
        client.set("k", b"v")
        assert client.get("k") == b"v"
        assert client.stats("settings")[b"growth_factor"] == 1.5
        client.close()
    assert not _reachable(server.port)


def test_a_server_that_cannot_start_is_one_line():
    require_binary("redis-server")
    with pytest.raises(CachetuneError, match="redis-server exited at start"):
        servers.start_redis({"maxmemory-policy": "no-such-policy"})


def test_a_missing_binary_says_what_to_install(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(CachetuneError, match="apt-get install memcached"):
        servers.start_memcached()
