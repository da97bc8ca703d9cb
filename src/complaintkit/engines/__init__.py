"""Engines that run :class:`complaintkit.scoring.job.ChunkJob` over a table: local (in-process or a
process pool) and Spark."""
