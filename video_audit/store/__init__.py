"""The databases: the web service's store and the nightly scan's."""
