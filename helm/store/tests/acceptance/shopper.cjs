// The shopper and the merchant in a real Chromium (acceptance harness,
// docs/store-acceptance.md): playwright-core with Debian's /usr/bin/chromium,
// headless, run by acceptance.py inside the harness's network namespace.
//   node shopper.cjs shop  URL SCREENSHOTS            -> the order id
//   node shopper.cjs admin URL SCREENSHOTS ORDER_ID   (ADMIN_USER_FILE, ADMIN_PASSWORD_FILE)
// Prints one JSON line per step: {step, ok, seconds, detail}; exits 1 on the
// first failed step (with a screenshot of where it failed).
const fs = require("fs");
const path = require("path");
const { chromium } = require(process.env.PLAYWRIGHT_CORE || "playwright-core");

const [mode, base, shots, orderId] = process.argv.slice(2);
const url = (p) => base.replace(/\/$/, "") + p;

function report(step, ok, started, detail) {
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  process.stdout.write(JSON.stringify({ step, ok, seconds, detail }) + "\n");
}

async function step(page, name, fn) {
  const started = Date.now();
  try {
    const detail = await fn();
    await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
    report(name, true, started, detail || "");
    return detail;
  } catch (e) {
    await page.screenshot({ path: path.join(shots, `${name}-FAILED.png`), fullPage: true }).catch(() => {});
    report(name, false, started, String(e && e.message ? e.message : e).split("\n").slice(0, 6).join(" | "));
    throw e;
  }
}

async function shop(page) {
  await step(page, "01-storefront-home", async () => {
    const r = await page.goto(url("/"), { waitUntil: "networkidle" });
    if (r.status() !== 200) throw new Error(`/ answered ${r.status()}`);
    if (/coming soon/i.test(await page.title())) throw new Error("the storefront is in coming-soon mode");
    const products = page.locator(".type-product");
    const n = await products.count();
    if (n === 0) throw new Error("/ shows no products (no element with class type-product)");
    return `${n} products on /, title "${await page.title()}"`;
  });
  await step(page, "01b-product-page", async () => {
    // a product's own page (its permalink: WooCommerce's rewrite rules), then back to /
    const link = page.locator(".type-product a[href*='/product/']").first();
    const href = await link.getAttribute("href");
    const r = await page.goto(href, { waitUntil: "networkidle" });
    if (r.status() !== 200) throw new Error(`${href} answered ${r.status()}`);
    const title = (await page.locator("h1").first().innerText()).trim();
    await page.goto(url("/"), { waitUntil: "networkidle" });
    return `${new URL(href).pathname} 200, "${title}"`;
  });
  await step(page, "02-add-to-cart", async () => {
    const button = page.locator(".type-product").first().getByRole("button", { name: /add to cart/i })
      .or(page.locator(".type-product").first().getByRole("link", { name: /add to cart/i })).first();
    // The cart lives in the session cookie of the add request's answer: going
    // to /cart/ before that answer arrived finds an empty cart (seen here).
    const added = page.waitForResponse((r) => r.request().method() === "POST" &&
      /cart\/add-item|wc-ajax=add_to_cart|add-to-cart/.test(r.url()), { timeout: 30000 });
    await button.click();
    const answer = await added;
    if (!answer.ok()) throw new Error(`adding to the cart answered ${answer.status()}`);
    // the block button says "1 in cart", the classic one adds "View cart"
    await page.locator("text=/1 in cart|View cart/i").first().waitFor({ timeout: 20000 });
    const r = await page.goto(url("/cart/"), { waitUntil: "networkidle" });
    if (r.status() !== 200) throw new Error(`/cart/ answered ${r.status()}`);
    const item = page.locator(".wc-block-cart-items__row, .woocommerce-cart-form__cart-item").first();
    const name = item.locator(".wc-block-components-product-name, .product-name").first();
    await name.waitFor({ timeout: 20000 });
    return `/cart/ holds ${(await name.innerText()).trim()}`;
  });
  const id = await step(page, "03-guest-checkout-cod", async () => {
    const r = await page.goto(url("/checkout/"), { waitUntil: "networkidle" });
    if (r.status() !== 200) throw new Error(`/checkout/ answered ${r.status()}`);
    if (await page.locator(".wc-block-checkout").count()) {
      await page.fill("#email", "shopper@example.com");
      const prefix = (await page.locator("#shipping-first_name").count()) ? "shipping" : "billing";
      const fill = async (field, value) => page.fill(`#${prefix}-${field}`, value);
      await fill("first_name", "Ada");
      await fill("last_name", "Shopper");
      await fill("address_1", "2 Test Street");
      await fill("city", "San Francisco");
      const state = page.locator(`#${prefix}-state`);
      if (await state.count()) {
        if ((await state.evaluate((e) => e.tagName)) === "SELECT") await state.selectOption("CA");
        else { await state.fill("California"); await page.keyboard.press("Enter"); }
      }
      await fill("postcode", "94105");
      if (await page.locator(`#${prefix}-phone`).count()) await fill("phone", "5550100");
      await page.getByText("Cash on delivery", { exact: false }).first().click();
      // A click while the checkout recalculates (each change of the form
      // POSTs .../checkout?__experimental_calc_totals=true) is ignored by the
      // block checkout: seen on a loaded machine, no order, no request. So
      // click as a shopper would until the order is sent, never twice after it.
      const placeOrder = page.locator(".wc-block-components-checkout-place-order-button");
      for (let attempt = 1; ; attempt++) {
        await page.waitForLoadState("networkidle");
        const sent = page.waitForRequest((q) => q.method() === "POST" && /\/wc\/store\/v1\/checkout\?/.test(q.url()) &&
          !/__experimental_calc_totals/.test(q.url()), { timeout: 15000 });
        await placeOrder.click();
        try {
          await sent;
          break;
        } catch (e) {
          if (attempt === 3) throw new Error("Place Order sent no checkout request, 3 clicks");
        }
      }
    } else {
      // the classic [woocommerce_checkout] shortcode
      for (const [f, v] of [["first_name", "Ada"], ["last_name", "Shopper"], ["address_1", "2 Test Street"],
        ["city", "San Francisco"], ["postcode", "94105"], ["phone", "5550100"], ["email", "shopper@example.com"]]) {
        await page.fill(`#billing_${f}`, v);
      }
      await page.check("#payment_method_cod");
      await page.click("#place_order");
    }
    await page.waitForURL(/order-received/, { timeout: 60000 });
    await page.locator("text=/Order received/i").first().waitFor({ timeout: 20000 });
    const m = page.url().match(/order-received\/(\d+)/);
    if (!m) throw new Error(`no order id in ${page.url()}`);
    return `order ${m[1]}: "Order received"`;
  });
  // (the step's detail is the order id)
  process.stdout.write(JSON.stringify({ order_id: id.split(/[ :]/)[1] }) + "\n");
}

async function admin(page) {
  const user = fs.readFileSync(process.env.ADMIN_USER_FILE, "utf8").trim();
  const password = fs.readFileSync(process.env.ADMIN_PASSWORD_FILE, "utf8").replace(/[\r\n]+$/, "");
  await step(page, "04-wp-admin-login", async () => {
    await page.goto(url("/wp-login.php"), { waitUntil: "networkidle" });
    await page.fill("#user_login", user);
    await page.fill("#user_pass", password);
    await Promise.all([page.waitForURL(/wp-admin/, { timeout: 60000 }), page.click("#wp-submit")]);
    return "logged in with the administrator of the Secret";
  });
  await step(page, "05-order-in-wp-admin", async () => {
    await page.goto(url("/wp-admin/admin.php?page=wc-orders"), { waitUntil: "networkidle" });
    let row = page.locator(`#order-${orderId}`);
    if (!(await row.count())) {
      await page.goto(url("/wp-admin/edit.php?post_type=shop_order"), { waitUntil: "networkidle" });
      row = page.locator(`#post-${orderId}`);
    }
    await row.waitFor({ timeout: 20000 });
    const text = (await row.innerText()).replace(/\s+/g, " ");
    if (!/Processing/.test(text)) throw new Error(`order ${orderId} is not Processing: ${text}`);
    return `WooCommerce → Orders: ${text.slice(0, 120)}`;
  });
  await step(page, "06-no-plugin-install-in-wp-admin", async () => {
    // DISALLOW_FILE_MODS in the serving container: even the administrator
    // cannot add, upload, update or delete plugins and themes here.
    const seen = [];
    for (const p of ["/wp-admin/plugin-install.php", "/wp-admin/theme-install.php", "/wp-admin/update-core.php"]) {
      const r = await page.goto(url(p), { waitUntil: "networkidle" });
      const body = await page.locator("body").innerText();
      const refused = body.match(/Sorry, you are not allowed[^.]*\./);
      if (r.status() < 400 || !refused) throw new Error(`${p} answered ${r.status()}${refused ? "" : " and was not refused"}`);
      seen.push(`${p} ${r.status()} "${refused[0]}"`);
    }
    const r = await page.goto(url("/wp-admin/plugins.php"), { waitUntil: "networkidle" });
    if (r.status() !== 200) throw new Error(`/wp-admin/plugins.php answered ${r.status()}`);
    const add = await page.locator("a[href*='plugin-install.php']").count();
    const remove = await page.locator("tr[data-slug] .delete a, tr[data-slug] .update-link").count();
    if (add || remove) throw new Error(`/wp-admin/plugins.php offers ${add} add and ${remove} delete/update links`);
    return `${seen.join(", ")}; plugins.php lists the plugins with no add, delete or update link`;
  });
}

(async () => {
  fs.mkdirSync(shots, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true,
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
  let status = 0;
  try {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.setDefaultTimeout(30000);
    await (mode === "admin" ? admin(page) : shop(page));
  } catch (e) {
    status = 1;
  } finally {
    await browser.close();
  }
  process.exit(status);
})();
