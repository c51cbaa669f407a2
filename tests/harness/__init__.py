"""What the tests (and the bench, bench/) drive the app with: a server on a free port with its
browser (`appserver`), Streamlit's own websocket protocol (`streamlit_client`), and the three
browser engines a class brings (`engines`, with `firefox` over WebDriver BiDi); and the tests' tiny
trained models (`tiny`)."""
