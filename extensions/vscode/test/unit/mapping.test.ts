/** Which page a file is: the workspace's rules, Power Pages downloads, and the plain default. */

import assert from "node:assert/strict";
import { test } from "node:test";

import { PageMapper, normalisePage, type PageRule } from "../../src/mapping.js";
import type { FileTree } from "../../src/powerPages.js";

/** A workspace of files given by path → text. */
function tree(files: Record<string, string>): FileTree & { reads: number } {
  const t = {
    reads: 0,
    async readText(path: string) {
      t.reads++;
      return files[path];
    },
    async list(path: string) {
      const prefix = path === "" ? "" : `${path}/`;
      const names = new Map<string, boolean>();
      for (const file of Object.keys(files)) {
        if (!file.startsWith(prefix)) continue;
        const rest = file.slice(prefix.length).split("/");
        names.set(rest[0]!, rest.length > 1);
      }
      return [...names].map(([name, folder]) => ({ name, folder }));
    },
  };
  return t;
}

const powerPagesSite = {
  "contoso/website.yml": "adx_websiteid: 5e1c\nadx_name: Contoso Portal\n",
  "contoso/web-pages/home/Home.webpage.yml":
    "adx_name: Home\nadx_partialurl: /\nadx_webpageid: 0a1b-home\nadx_publishingstateid: p\n",
  "contoso/web-pages/home/Home.webpage.copy.html": "<h1>Welcome</h1>",
  "contoso/web-pages/products/Products.webpage.yml":
    "adx_name: Products\nadx_parentpageid: 0a1b-home\nadx_partialurl: products\nadx_webpageid: 2c3d-products\n",
  "contoso/web-pages/products/Products.webpage.copy.html": "<p>…</p>",
  "contoso/web-pages/products/content-pages/Products.en-US.webpage.copy.html": "<p>en</p>",
  "contoso/web-pages/products/content-pages/Products.en-US.webpage.yml":
    "adx_name: Products\nadx_partialurl: products\nadx_rootwebpageid: 2c3d-products\nadx_webpageid: 9f-en\n",
  "contoso/web-pages/pricing/Pricing.webpage.yml":
    "adx_name: 'Pricing & plans'\nadx_parentpageid: 2c3d-products\nadx_partialurl: pricing\nadx_webpageid: 4e5f-pricing\n",
  "contoso/web-pages/pricing/Pricing.webpage.custom_javascript.js": "",
  "contoso/web-pages/orphan/Orphan.webpage.yml":
    "adx_name: Orphan\nadx_parentpageid: not-downloaded\nadx_partialurl: orphan\nadx_webpageid: 77\n",
  "contoso/web-pages/loop-a/A.webpage.yml":
    "adx_name: A\nadx_parentpageid: b\nadx_partialurl: a\nadx_webpageid: a\n",
  "contoso/web-pages/loop-b/B.webpage.yml":
    "adx_name: B\nadx_parentpageid: a\nadx_partialurl: b\nadx_webpageid: b\n",
  "contoso/web-pages/broken/Broken.webpage.yml": "adx_name: [unclosed\n",
  "contoso/web-templates/header/Header.webtemplate.source.html": "<header>",
};

test("a Power Pages download: each file of a web page is that page, under its parents", async () => {
  const mapper = new PageMapper([], tree(powerPagesSite));
  assert.deepEqual(await mapper.pageOf("contoso/web-pages/home/Home.webpage.copy.html"), {
    path: "/",
    title: "Home",
  });
  assert.deepEqual(await mapper.pageOf("contoso/web-pages/products/Products.webpage.copy.html"), {
    path: "/products",
    title: "Products",
  });
  assert.deepEqual(
    await mapper.pageOf("contoso/web-pages/products/content-pages/Products.en-US.webpage.copy.html"),
    { path: "/products", title: "Products" },
    "a language's copy is the same page",
  );
  assert.deepEqual(
    await mapper.pageOf("contoso/web-pages/pricing/Pricing.webpage.custom_javascript.js"),
    { path: "/products/pricing", title: "Pricing & plans" },
  );
  assert.deepEqual(await mapper.pageOf("contoso/web-pages/pricing"), {
    path: "/products/pricing",
    title: "Pricing & plans",
  }, "the page's folder is the page too (explorer decorations)");
});

test("Power Pages: a missing parent, a loop, a broken or absent .webpage.yml are handled", async () => {
  const mapper = new PageMapper([], tree(powerPagesSite));
  assert.deepEqual(await mapper.pageOf("contoso/web-pages/orphan/x.html"), {
    path: "/orphan",
    title: "Orphan",
  });
  assert.equal(await mapper.pageOf("contoso/web-pages/loop-a/A.webpage.yml"), undefined);
  assert.equal(await mapper.pageOf("contoso/web-pages/broken/Broken.webpage.yml"), undefined);
  assert.equal(await mapper.pageOf("contoso/web-pages/unknown/x.html"), undefined);
  assert.equal(await mapper.pageOf("contoso/web-pages"), undefined);
});

test("Power Pages: other files of the site are on no page; the site is read once", async () => {
  const files = tree(powerPagesSite);
  const mapper = new PageMapper([], files);
  await mapper.pageOf("contoso/web-pages/home/Home.webpage.copy.html");
  const reads = files.reads;
  await mapper.pageOf("contoso/web-pages/products/Products.webpage.copy.html");
  await mapper.pageOf("contoso/web-pages/pricing/Pricing.webpage.yml");
  assert.equal(files.reads, reads, "the index is kept");
  mapper.forgetFiles();
  await mapper.pageOf("contoso/web-pages/pricing/Pricing.webpage.yml");
  assert.ok(files.reads > reads, "and read again once forgotten");
  assert.equal(
    await mapper.pageOf("contoso/web-templates/header/Header.webtemplate.source.html"),
    undefined,
  );
  assert.equal(await mapper.pageOf("contoso/website.yml"), undefined);
});

test("the default: the path without its extension; index files are their folder", async () => {
  const mapper = new PageMapper([], tree({ "docs/website.md": "not a site" }));
  assert.deepEqual(await mapper.pageOf("docs/intro.md"), { path: "/docs/intro" });
  assert.deepEqual(await mapper.pageOf("docs/index.html"), { path: "/docs" });
  assert.deepEqual(await mapper.pageOf("index.html"), { path: "/" });
  assert.deepEqual(await mapper.pageOf("about"), { path: "/about" });
  assert.deepEqual(await mapper.pageOf(".eslintrc"), { path: "/.eslintrc" });
  assert.deepEqual(await mapper.pageOf("a/b.c.d.ts"), { path: "/a/b.c.d" });
  assert.equal(await mapper.pageOf(""), undefined);
});

test("workspace rules come first, in order, match whole paths and may put files on no page", async () => {
  const rules: PageRule[] = [
    { files: "node_modules/.*|\\.vscode/.*", page: "" },
    { files: "src/pages/(?<page>.+)\\.tsx", page: "/$<page>", title: "Page $<page>" },
    { files: "src/pages/index\\.tsx", page: "/home" },
    { files: "content/(\\w+)/(\\w+)\\.md", page: "/$2/$1" },
  ];
  const mapper = new PageMapper(rules, tree(powerPagesSite));
  assert.deepEqual(mapper.problems, []);
  assert.equal(await mapper.pageOf("node_modules/x/index.js"), undefined);
  assert.equal(await mapper.pageOf(".vscode/settings.json"), undefined);
  assert.deepEqual(await mapper.pageOf("src/pages/products/pricing.tsx"), {
    path: "/products/pricing",
    title: "Page products/pricing",
  });
  assert.deepEqual(
    await mapper.pageOf("src/pages/index.tsx"),
    { path: "/index", title: "Page index" },
    "the first matching rule wins",
  );
  assert.deepEqual(await mapper.pageOf("content/en/about.md"), { path: "/about/en" });
  assert.deepEqual(
    await mapper.pageOf("x/src/pages/a.tsx"),
    { path: "/x/src/pages/a" },
    "a rule matches the whole path only",
  );
});

test("a bad rule is reported and skipped; the others still apply", async () => {
  const rules = [
    { files: "(", page: "/x" },
    { files: "a\\.md" } as unknown as PageRule,
    { files: "b\\.md", page: "/bee" },
  ];
  const mapper = new PageMapper(rules, tree({}));
  assert.deepEqual(
    mapper.problems.map((p) => p.rule),
    [0, 1],
  );
  assert.deepEqual(await mapper.pageOf("b.md"), { path: "/bee" });
  assert.deepEqual(await mapper.pageOf("a.md"), { path: "/a" });
});

test("page paths are normalised, and what the service would refuse is no page", async () => {
  assert.equal(normalisePage("products//pricing/"), "/products/pricing");
  assert.equal(normalisePage("/./a"), "/a");
  assert.equal(normalisePage(""), "/");
  assert.equal(normalisePage("/a\u0007b"), undefined);
  assert.equal(normalisePage(`/${"é".repeat(600)}`), undefined, "over 1024 bytes");
  const mapper = new PageMapper([{ files: "x(.*)", page: "/$1" }], tree({}));
  assert.equal(await mapper.pageOf("x\u0001"), undefined);
});
