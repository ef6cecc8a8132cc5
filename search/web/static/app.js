// zhsearch's search page: results as you type, and links within the results followed without reloading.
// The server renders every view (this script only fetches /results, the same HTML the page shows), so the page
// works without the script and every state is a URL.
"use strict";
(function () {
  const form = document.getElementById("search-form");
  const input = document.getElementById("q");
  const region = document.getElementById("results");
  const DELAY_MS = 180;
  let timer = 0;
  let latest = 0;
  let inFlight = null;

  function isTyping(el) {
    return el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));
  }

  // `/` focuses the search box from anywhere on any page.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || isTyping(document.activeElement)) {
      return;
    }
    event.preventDefault();
    input.focus();
    input.select();
  });

  if (!region) {
    return; // a post's page: the form just goes to the search page
  }

  function pageUrl(params) {
    const text = params.toString();
    return text ? "/?" + text : "/";
  }

  function setTitle(params) {
    const q = params.get("q");
    document.title = q ? q + " - zhsearch 搜索" : "zhsearch 搜索";
  }

  // Shows the results for `params`; the old ones stay until the new ones are in, and an answer that a later
  // request overtook is dropped. `how`: "push" or "replace" the history entry, or null (going back).
  async function show(params, how) {
    const mine = ++latest;
    if (inFlight) {
      inFlight.abort();
    }
    inFlight = new AbortController();
    region.setAttribute("aria-busy", "true");
    try {
      const response = await fetch("/results?" + params.toString(), { signal: inFlight.signal });
      const html = await response.text();
      if (mine !== latest) {
        return;
      }
      region.innerHTML = html; // rendered and escaped by the server's templates
      if (how === "push") {
        history.pushState(null, "", pageUrl(params));
      } else if (how === "replace") {
        history.replaceState(null, "", pageUrl(params));
      }
      setTitle(params);
    } catch (error) {
      if (error.name !== "AbortError" && mine === latest) {
        region.insertAdjacentHTML("afterbegin", '<p class="error" role="alert">连接服务器失败，请稍后再试。</p>');
      }
    } finally {
      if (mine === latest) {
        region.removeAttribute("aria-busy");
      }
    }
  }

  function paramsWithQuery() {
    const params = new URLSearchParams(location.search);
    const q = input.value.trim();
    if (q) {
      params.set("q", input.value);
    } else {
      params.delete("q");
    }
    params.delete("page");
    return params;
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      const params = paramsWithQuery();
      if (params.toString() !== new URLSearchParams(location.search).toString()) {
        show(params, "replace");
      }
    }, DELAY_MS);
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearTimeout(timer);
    show(paramsWithQuery(), "push");
  });

  region.addEventListener("click", function (event) {
    const anchor = event.target.closest("a[data-nav]");
    if (!anchor || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) {
      return;
    }
    event.preventDefault();
    const url = new URL(anchor.getAttribute("href"), location.href);
    const params = url.searchParams;
    input.value = params.get("q") || "";
    show(params, "push").then(function () {
      if (region.getBoundingClientRect().top < 0) {
        region.scrollIntoView();
      }
    });
  });

  window.addEventListener("popstate", function () {
    const params = new URLSearchParams(location.search);
    input.value = params.get("q") || "";
    show(params, null);
  });
})();
