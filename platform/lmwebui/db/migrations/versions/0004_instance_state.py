"""instance state: the first-user rule applies once, on a fresh database

Revision ID: 0004_instance_state
Revises: 0003_rag
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_instance_state"
down_revision = "0003_rag"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "instance_state",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("first_user_at", sa.DateTime(timezone=True), nullable=False),
    )
    # A database that already has accounts made its first admin: never again.
    op.execute(
        "INSERT INTO instance_state (id, first_user_at) "
        "SELECT 1, created_at FROM users ORDER BY created_at LIMIT 1"
    )


def downgrade() -> None:
    op.drop_table("instance_state")
