"""Persistence: SQLAlchemy 2 async models, engine, Alembic migrations."""

from lmwebui.db.database import Database
from lmwebui.db.models import AuthSession, Base, RefreshToken, User

__all__ = ["AuthSession", "Base", "Database", "RefreshToken", "User"]
