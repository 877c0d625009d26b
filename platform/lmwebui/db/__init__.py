"""Persistence: SQLAlchemy 2 async models, engine, Alembic migrations."""

from lmwebui.db.database import Database
from lmwebui.db.models import AuthSession, Base, InstanceState, RefreshToken, User

__all__ = ["AuthSession", "Base", "Database", "InstanceState", "RefreshToken", "User"]
