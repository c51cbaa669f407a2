"""The autoencoder lab (`streamlit run app.py`): process tuning, page config, the menu over
app_pages/, the shared sidebar.

The pages live in app_pages/, not pages/: with a pages/ folder, Streamlit runs a page file on its
own (no sidebar, no picker) when a fresh server's first visitor opens that page's URL directly.
"""

from ae import runtime


def main() -> None:
    import streamlit as st

    from ae import rooms, ui
    from ae.ui import classroom, context, links, warm
    from app_pages import PAGES

    sidebar = "collapsed" if links.presenting() else "auto"  # ?present=1: a projector
    st.set_page_config(page_title="Autoencoder lab", page_icon=":material/blur_on:", layout="wide", initial_sidebar_state=sidebar)
    shown = tuple(row for row in PAGES if row[0] != "class" or rooms.enabled())
    kept = st.session_state.get("app_pages")  # made once a session: st.Page resolves its file's path, a tenth of a rerun
    if kept is None or kept[0] != shown:
        pages = [st.Page(f"app_pages/{file}.py", title=title, icon=icon, default=i == 0) for i, (file, title, icon) in enumerate(shown)]
        kept = st.session_state["app_pages"] = (shown, pages)
    page = st.navigation(kept[1])
    links.present()
    models = ui.loaded_models()
    links.restore_model([c.name for c in models])  # a link's model, before the picker shows one
    room = classroom.joined_room()  # a class's page uses the class's model
    if room is not None:
        classroom.follow(room, page.url_path)  # a student's page follows the teacher's lesson and pens
    context.settle(models, ui.sidebar_model_picker(models, fixed=room.model if room else None), room)  # what the pages read
    warm.start()  # once per process: for `streamlit run app.py`, which has no start-up hook
    st.sidebar.caption("An autoencoder squeezes a picture through a small code and rebuilds it. Pick a model here; every page uses it.")
    page.run()


runtime.tune_for_serving()  # before main() imports torch: OpenMP reads its thread count when it loads
main()
