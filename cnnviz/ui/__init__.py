"""The Streamlit glue shared by pages: the only part of cnnviz that imports streamlit."""
