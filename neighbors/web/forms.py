"""Form helpers shared by every feature's views."""

from neighbors.core.errors import DomainError


def show_error(form, error: DomainError):
    """Put a service's error on the fields it names, or on the form as a whole."""
    placed = False
    for name, message in error.fields.items():
        if name in form:
            form[name].errors = [*form[name].errors, message]
            placed = True
    if not placed:
        form.form_errors.append(error.message)
