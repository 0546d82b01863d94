"""Initial service schema: portfolio versions, forecasts, prices, bids, schedules, setpoints,
telemetry, settlements, statements and job runs.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vpp.service.db import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer, primary_key=True, autoincrement=True)


def upgrade() -> None:
    op.create_table(
        "portfolio_versions",
        _id(),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "forecasts",
        _id(),
        sa.Column("trading_day", sa.Date, nullable=False, index=True),
        sa.Column("period_start", UtcDateTime, nullable=False),
        sa.Column("da_price", sa.Float, nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.UniqueConstraint("period_start", name="uq_forecasts_period"),
    )
    op.create_table(
        "prices",
        sa.Column("period_start", UtcDateTime, primary_key=True),
        sa.Column("da_price", sa.Float, nullable=True),
        sa.Column("rt_price", sa.Float, nullable=True),
    )
    op.create_table(
        "bids",
        _id(),
        sa.Column("trading_day", sa.Date, nullable=False, index=True),
        sa.Column("period_start", UtcDateTime, nullable=False),
        sa.Column("net_mw", sa.Float, nullable=False),
        sa.Column("portfolio_version_id", sa.Integer, sa.ForeignKey("portfolio_versions.id"), nullable=True),
        sa.UniqueConstraint("period_start", name="uq_bids_period"),
    )
    op.create_table(
        "day_ahead_schedules",
        _id(),
        sa.Column("trading_day", sa.Date, nullable=False, index=True),
        sa.Column("period_start", UtcDateTime, nullable=False),
        sa.Column("asset_id", sa.String(100), nullable=False),
        sa.Column("net_mw", sa.Float, nullable=False),
        sa.Column("soc_mwh", sa.Float, nullable=True),
        sa.UniqueConstraint("period_start", "asset_id", name="uq_da_schedule"),
    )
    op.create_table(
        "setpoints",
        _id(),
        sa.Column("period_start", UtcDateTime, nullable=False),
        sa.Column("asset_id", sa.String(100), nullable=False),
        sa.Column("setpoint_mw", sa.Float, nullable=False),
        sa.Column("soc_end_mwh", sa.Float, nullable=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.UniqueConstraint("period_start", "asset_id", name="uq_setpoints"),
    )
    op.create_table(
        "telemetry",
        _id(),
        sa.Column("period_start", UtcDateTime, nullable=False),
        sa.Column("asset_id", sa.String(100), nullable=False),
        sa.Column("metered_mw", sa.Float, nullable=False),
        sa.Column("soc_mwh", sa.Float, nullable=True),
        sa.UniqueConstraint("period_start", "asset_id", name="uq_telemetry"),
    )
    op.create_table(
        "settlements",
        _id(),
        sa.Column("trading_day", sa.Date, nullable=False, index=True),
        sa.Column("period_start", UtcDateTime, nullable=False),
        *(
            sa.Column(name, sa.Float, nullable=False)
            for name in (
                "q_da_mwh",
                "q_actual_mwh",
                "p_da",
                "p_rt",
                "da_revenue",
                "rt_revenue",
                "revenue",
            )
        ),
        sa.UniqueConstraint("period_start", name="uq_settlements_period"),
    )
    op.create_table(
        "statements",
        sa.Column("trading_day", sa.Date, primary_key=True),
        sa.Column("periods", sa.Integer, nullable=False),
        *(
            sa.Column(name, sa.Float, nullable=False)
            for name in (
                "q_da_mwh",
                "q_actual_mwh",
                "export_mwh",
                "import_mwh",
                "da_revenue",
                "rt_revenue",
                "revenue",
            )
        ),
    )
    op.create_table(
        "job_runs",
        _id(),
        sa.Column("job", sa.String(40), nullable=False),
        sa.Column("period_key", sa.String(40), nullable=False),
        sa.Column("period_start", UtcDateTime, nullable=True, index=True),
        sa.Column("started_at", UtcDateTime, nullable=False),
        sa.Column("finished_at", UtcDateTime, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("solver_status", sa.String(40), nullable=True),
        sa.Column("fallback_reason", sa.Text, nullable=True),
        sa.Column("detail", sa.Text, nullable=True),
        sa.UniqueConstraint("job", "period_key", name="uq_job_runs"),
    )


def downgrade() -> None:
    for table in (
        "job_runs",
        "statements",
        "settlements",
        "telemetry",
        "setpoints",
        "day_ahead_schedules",
        "bids",
        "prices",
        "forecasts",
        "portfolio_versions",
    ):
        op.drop_table(table)
