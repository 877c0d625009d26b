"""Authentication: argon2 passwords, JWT access/refresh tokens, rotating sessions."""
