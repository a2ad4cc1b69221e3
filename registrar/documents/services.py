"""The document pipeline (placeholder interface; see registrar/documents/README in code)."""


def document_issue_for_request(*, doc_type: str, request, issued_by):
    raise NotImplementedError
