"""Models shipped with rnaigloo (installed as the package ``rnaigloo.models``)."""
