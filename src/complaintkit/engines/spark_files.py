"""Files named by Spark URIs (``file:``, ``hdfs://``, ``s3a://``, ``abfss://``...), handled on the driver.

Only metadata moves through the driver: listing, renaming, deleting and small marker files,
all through the Hadoop ``FileSystem`` of the running Spark session (so every scheme the
cluster is configured for works, with its credentials). Table data is read and written by
the executors.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..io.uris import to_uri

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

class HadoopFiles:
    """File operations on URIs through the Hadoop ``FileSystem`` of ``spark``."""

    def __init__(self, spark: SparkSession) -> None:
        self._jvm = spark.sparkContext._jvm
        self._conf = spark.sparkContext._jsc.hadoopConfiguration()

    def _fs(self, uri: str) -> tuple[Any, Any]:
        path = self._jvm.org.apache.hadoop.fs.Path(uri)
        fs = path.getFileSystem(self._conf)
        if fs.getScheme() == "file":  # no .crc checksum files beside the user's files
            fs = fs.getRawFileSystem()
        return fs, path

    def qualify(self, location: str | Path) -> str:
        """The fully qualified URI of ``location`` (a local path becomes ``file:/...``)."""
        fs, path = self._fs(to_uri(location))
        return str(fs.makeQualified(path).toString())

    def exists(self, uri: str) -> bool:
        fs, path = self._fs(uri)
        return bool(fs.exists(path))

    def is_dir(self, uri: str) -> bool:
        fs, path = self._fs(uri)
        return bool(fs.exists(path) and fs.getFileStatus(path).isDirectory())

    def delete(self, uri: str) -> None:
        """Delete ``uri`` and everything under it, if it exists."""
        fs, path = self._fs(uri)
        if fs.exists(path):
            fs.delete(path, True)

    def list_files(self, uri: str) -> list[str]:
        """Every file under folder ``uri`` (recursively), as qualified URIs; ``[]`` if it does not exist."""
        fs, path = self._fs(uri)
        if not fs.exists(path):
            return []
        found = fs.listFiles(path, True)
        files = []
        while found.hasNext():
            files.append(str(found.next().getPath().toString()))
        return files

    def move(self, source: str, target: str) -> None:
        """Rename file ``source`` to ``target`` (creating its folder); on object stores this is a copy."""
        fs, src = self._fs(source)
        _, dst = self._fs(target)
        fs.mkdirs(dst.getParent())
        if not fs.rename(src, dst):
            raise OSError(f"could not move {source} to {target}")

    def write_text(self, uri: str, text: str) -> None:
        """Write ``text`` (UTF-8) to file ``uri``, replacing it."""
        fs, path = self._fs(uri)
        stream = fs.create(path, True)
        try:
            stream.write(bytearray(text.encode("utf-8")))
        finally:
            stream.close()

    def read_text(self, uri: str) -> str:
        fs, path = self._fs(uri)
        stream = fs.open(path)
        try:
            return bytes(self._jvm.org.apache.commons.io.IOUtils.toByteArray(stream)).decode("utf-8")
        finally:
            stream.close()
