"""Post files → `Post`: the corpus walk, front matter, and the text of a Markdown or HTML body.

Modules, in the order a file goes through them:
- `corpus`: `find_posts` / `find_post_names` walk a corpus root (post suffixes only, symlinks checked against
  the root, loops, unreadable entries and names that are not UTF-8 reported instead of followed; a Hexo or Jekyll
  site's root, `find_site`, walked for its posts only);
- `post`: the `Post` record, `read_post` (at most `MAX_POST_BYTES`, decoded as UTF-8, GB18030 or Big5) and
  `parse_post`, which ties the stages below together; every degradation is a short sentence in `Post.problems`;
- `frontmatter`: the YAML (`---`) or JSON (`;;;`) head in hexo-front-matter's forms, loaders guarded against hostile
  input, loose values coerced (titles, lists, dates, URLs);
- `liquid`: Liquid/Hexo template tags removed, `{% raw %}` kept verbatim;
- `from_markdown`: Markdown (markdown-it, CommonMark) to text, through HTML when it holds raw HTML;
- `from_html`: HTML to text with BeautifulSoup+lxml (blocks → lines, hidden elements dropped, the Zhihu answer
  format's author and original URL picked up).

(Nothing is imported here: importing `search.posts.corpus` must not import PyYAML, markdown-it or bs4.)
"""
