"""The typed models of content/, one module per area; bot/content.py loads and cross-checks them."""
