"""The shared cache: where it lives, an increment that loses nothing, culling that keeps
what is still valid, and the SAML replay cache seen from two processes."""

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from campusconf.core.cache import cache_settings
from campusconf.core.db_cache import DatabaseCache
from tests.core import servers


def test_the_database_by_default_and_redis_by_url():
    assert cache_settings("")["BACKEND"] == "campusconf.core.db_cache.DatabaseCache"
    assert cache_settings("")["LOCATION"] == "campusconf_cache"
    assert cache_settings("db://other_cache")["LOCATION"] == "other_cache"
    redis = cache_settings("redis://cache.example:6379/2", key_prefix="cc-a")
    assert redis["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert (redis["LOCATION"], redis["KEY_PREFIX"]) == ("redis://cache.example:6379/2", "cc-a")


def test_an_unknown_cache_url_stops_the_start_up_with_the_choices():
    with pytest.raises(ImproperlyConfigured, match="redis://host"):
        cache_settings("memcached://127.0.0.1:11211")


@pytest.mark.django_db(transaction=True)
def test_an_increment_that_races_another_loses_neither():
    """Between this increment's read and its write, another process increments: both
    must count. The other process is played by a query wrapper that runs right after
    the first read of the key."""
    cache.set("race", 1, timeout=60)
    interfered = []

    def other_process_increments(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        reads_the_cache = sql.lstrip().upper().startswith("SELECT") and "campusconf_cache" in sql
        if reads_the_cache and not interfered:
            interfered.append(True)
            cache.incr("race")
        return result

    with connection.execute_wrapper(other_process_increments):
        value = cache.incr("race")
    assert interfered
    assert value == 3
    assert cache.get("race") == 3


@pytest.mark.django_db
def test_incr_of_a_missing_or_expired_key_says_so():
    with pytest.raises(ValueError, match="not found"):
        cache.incr("never-set")
    cache.set("gone", 5, timeout=-1)
    with pytest.raises(ValueError, match="not found"):
        cache.incr("gone")


@pytest.mark.django_db
def test_a_full_table_forgets_only_expired_entries():
    small = DatabaseCache("campusconf_cache", {"OPTIONS": {"MAX_ENTRIES": 5}})
    for n in range(4):
        small.set(f"old-{n}", n, timeout=-1)  # already expired
    for n in range(12):
        small.add(f"seen-assertion-{n}", 1, timeout=3600)
    assert all(small.get(f"seen-assertion-{n}") == 1 for n in range(12))
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM campusconf_cache WHERE cache_key LIKE %s", ["%old-%"])
        assert cursor.fetchone()[0] == 0


REPLAY = (
    "from django.core.exceptions import PermissionDenied;"
    "from campusconf.signin.backends import MemberSaml2Backend as B;"
    "from campusconf.signin.federation import AssertedId;"
    "\nasserted = AssertedId('2600000000', 'example.ac.jp', 'https://idp.example.ac.jp');"
    "\ntry:\n    B._refuse_replay(None, asserted, {'assertion_id': '_platform-test-assertion'})"
    "\nexcept PermissionDenied:\n    print('refused')\nelse:\n    print('accepted')"
)


def test_an_assertion_seen_by_one_process_is_refused_by_another(platform):
    first = servers.campusconf(platform.env, "shell", "-c", REPLAY)
    second = servers.campusconf(platform.env, "shell", "-c", REPLAY)
    # The last line: Django's shell may first say how many objects it imported.
    assert first.stdout.strip().splitlines()[-1:] == ["accepted"], first.stderr[-2000:]
    assert second.stdout.strip().splitlines()[-1:] == ["refused"], second.stderr[-2000:]
