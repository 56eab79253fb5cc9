"""classify: strip web noise from news documents, flag duplicated paragraphs, classify topic and stance."""

from classify.document import Document, ErrorRecord, Line, Prediction

__version__ = "0.1.0"
__all__ = ["Document", "ErrorRecord", "Line", "Prediction", "__version__"]
