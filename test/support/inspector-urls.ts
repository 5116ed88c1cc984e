// URLs of an inspector server's routes, from the page URL it prints (`http://host:port/?key=…`):
// the control routes need the key, so it is carried over.

/** `path` (such as `control/config`) on the server whose page is at `page`, with the page's key. */
export function controlUrl(page: string, path: string): string {
  const url = new URL(path, page);
  url.search = new URL(page).search;
  return url.href;
}
