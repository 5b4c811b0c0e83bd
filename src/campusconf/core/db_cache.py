"""Django's database cache with an atomic ``incr`` (the shared cache's default backend)."""

import base64
import pickle
from typing import Any

from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import connections, models, router
from django.utils import timezone

# Compare-and-set rounds before an increment gives up; each lost round means another
# process incremented in between, so this many in a row only happens under a flood.
INCR_ROUNDS = 50


class DatabaseCache(DjangoDatabaseCache):
    """Django's database cache, made fit to hold security state.

    - ``incr`` is atomic. Django's reads the value and writes it back; two processes
      counting at once both write the same number and an attempt is lost, which lets a
      flood past a rate limit by as many attempts as run in parallel. This one writes
      only if the stored value is still the one it read (compare and set), else again.
    - Culling drops expired rows only. Django's also deletes live rows once the table
      passes ``MAX_ENTRIES``: a flood of sign-in attempts would make it forget the SAML
      assertions it has seen, and a replay would pass.
    """

    def __init__(self, table: str, params: dict[str, Any]) -> None:
        super().__init__(table, params)
        self.table_name = table

    def _cull(self, db: str, cursor: Any, now: Any, num: int) -> None:
        connection = connections[db]
        quote = connection.ops.quote_name
        cursor.execute(
            f"DELETE FROM {quote(self.table_name)} WHERE {quote('expires')} < %s",  # noqa: S608 - names quoted by the backend
            [connection.ops.adapt_datetimefield_value(now)],
        )

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> Any:
        cache_key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        quote = connection.ops.quote_name
        table = quote(self.table_name)
        select = (
            f"SELECT {quote('value')}, {quote('expires')} FROM {table} "  # noqa: S608 - names quoted by the backend
            f"WHERE {quote('cache_key')} = %s"
        )
        update = (
            f"UPDATE {table} SET {quote('value')} = %s "  # noqa: S608 - names quoted by the backend
            f"WHERE {quote('cache_key')} = %s AND {quote('value')} = %s"
        )
        for _round in range(INCR_ROUNDS):
            with connection.cursor() as cursor:
                cursor.execute(select, [cache_key])
                row = cursor.fetchone()
                if row is None or self._expired(connection, row[1]):
                    raise ValueError(f"Key '{key}' not found")
                stored = connection.ops.process_clob(row[0])
                value = pickle.loads(base64.b64decode(stored.encode())) + delta  # noqa: S301 - our own rows
                encoded = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode(
                    "latin1"
                )
                cursor.execute(update, [encoded, cache_key, stored])
                if cursor.rowcount == 1:
                    return value
        raise RuntimeError(f"cache key {key!r}: {INCR_ROUNDS} increments lost to others in a row")

    @staticmethod
    def _expired(connection: Any, expires: Any) -> bool:
        expression = models.Expression(output_field=models.DateTimeField())
        for converter in connection.ops.get_db_converters(
            expression
        ) + expression.get_db_converters(connection):
            expires = converter(expires, expression, connection)
        return bool(expires < timezone.now())
