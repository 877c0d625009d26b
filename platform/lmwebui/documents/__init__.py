"""Document conversion and OCR: bytes in, text with pages and headings out.

Everything here is synchronous CPU work; the Documents deployment (or the in-process
backend used by tests) runs it in worker threads.
"""
