"""Paths and defaults. Everything is built from this file's location; nothing is logged at import."""
from __future__ import annotations

from pathlib import Path

VERSION = "0.1.0"   # the package version (pyproject.toml reads it from here)

PACKAGE_DIR = Path(__file__).resolve().parent.parent   # cs_analytics/ (this file is in base/)
RESOURCES_DIR = PACKAGE_DIR / "resources"
PROFILES_DIR = RESOURCES_DIR / "profiles"
SAMPLE_SPEC_DIR = RESOURCES_DIR / "sample"

# The repository layout (present for a source checkout / editable install).
PROJECT_ROOT = PACKAGE_DIR.parent
DATA_DIR = PROJECT_ROOT / "data"
SAMPLE_DIR = DATA_DIR / "sample"
RAW_DIR = DATA_DIR / "raw"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
REPORTS_DIR = PROJECT_ROOT / "reports"

SAMPLE_EXPORT = SAMPLE_DIR / "sample_export.csv"
SAMPLE_TRUTH = SAMPLE_DIR / "sample_truth.csv"
SAMPLE_TRUTH_SESSIONS = SAMPLE_DIR / "sample_truth_sessions.csv"
SAMPLE_JD_TSV = SAMPLE_DIR / "jd_style_sample.tsv"

DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_PROFILE = "generic"

# Loader defaults (each can be overridden per call to load_logs).
CHUNK_ROWS = 50_000             # rows canonicalised at a time, bounds peak memory
MAX_TEXT_CHARS = 20_000         # a "message" longer than this is set aside as text_too_long
PROGRESS_MIN_BYTES = 20_000_000  # show a progress bar for inputs larger than this (progress=None)
