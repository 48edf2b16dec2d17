"""Documents as their readers open and print them."""
