/* Project specific Javascript goes here. */
const markCurrentLink = () => {
  for (const link of document.querySelectorAll(".navbar-nav a.nav-link")) {
    if (link.getAttribute("href") === window.location.pathname) {
      link.classList.add("active");
      link.setAttribute("aria-current", "page");
    }
  }
};

document.addEventListener("DOMContentLoaded", markCurrentLink);
