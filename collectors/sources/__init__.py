"""The source systems' tables (SQLAlchemy Core) and the adapter that reads them."""
