"""Streamlit pieces that draw one thing each; they take core models and return what the user did."""
