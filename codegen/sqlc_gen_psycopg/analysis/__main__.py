"""``python -m sqlc_gen_psycopg.analysis``: the ``sqlc-gen-psycopg-db`` command."""

import sys

from sqlc_gen_psycopg.analysis.cli import main

sys.exit(main())
