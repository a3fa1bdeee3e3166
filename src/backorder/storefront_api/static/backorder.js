/*! backorder.js: shows the store's backorder messages on product pages.
 *
 * Load it once per page:
 *   <script src="https://YOUR-SERVER/storefront/backorder.js" data-store="STORE" defer></script>
 * Optional attributes: data-api (the server, default: where the script came from),
 * data-theme (cornerstone | luma | lightspeed | generic; default: found from the markup).
 *
 * No dependencies, no eval, no inline style attributes (the button colour is set through
 * the CSSOM, which a CSP without 'unsafe-inline' allows). Merchant text is only ever
 * written with textContent. When the API cannot be reached the page is left as it was.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.__backorder) { return; }
  var store = script.getAttribute("data-store") || "";
  var api = (script.getAttribute("data-api") || new URL(script.src).origin).replace(/\/+$/, "");
  var wanted = script.getAttribute("data-theme") || "";
  var TIMEOUT = 5000;

  function $(selector, root) { return (root || document).querySelector(selector); }
  function text(el) { return el ? (el.value !== undefined && el.tagName === "INPUT" ? el.value : el.textContent).trim() : ""; }
  function digits(value) { return /^[0-9]{1,12}$/.test(value || "") ? value : ""; }

  /* ------------------------------------------------------------------ adapters
   * Each adapter says where the product is on the page and where messages go:
   *   keys()  -> {sku, product_id, variant_id} (any may be empty)
   *   qty()   -> the quantity input's number
   *   watch(fn) calls fn when the variant or quantity may have changed
   *   button  -> the Add to Cart control; slots: description, shipping, alert anchors
   */
  function observe(nodes, fn) {
    var observer = new MutationObserver(fn);
    nodes.forEach(function (node) {
      if (node) { observer.observe(node, {childList: true, characterData: true, subtree: true, attributes: true}); }
    });
  }

  /* Magento: the configurable's "index" (child product id -> {attribute id: option id}) from
     the first text/x-magento-init block that has one; JSON.parse only, nothing runs. */
  function magentoIndex() {
    var blocks = document.querySelectorAll("script[type='text/x-magento-init']");
    for (var i = 0; i < blocks.length; i++) {
      try {
        var found = findIndex(JSON.parse(blocks[i].textContent), 0);
        if (found) { return found; }
      } catch (e) { /* not JSON: someone else's block */ }
    }
    return null;
  }

  function findIndex(value, depth) {
    if (!value || typeof value !== "object" || depth > 8) { return null; }
    if (value.index && value.attributes && typeof value.index === "object") { return value.index; }
    for (var key in value) {
      if (Object.prototype.hasOwnProperty.call(value, key)) {
        var found = findIndex(value[key], depth + 1);
        if (found) { return found; }
      }
    }
    return null;
  }

  /* The child whose options are all chosen in the form's super_attribute[ID] fields. */
  function chosenChild(form, index) {
    var chosen = {};
    var fields = form.querySelectorAll(".super-attribute-select");
    if (!index || !fields.length) { return ""; }
    for (var i = 0; i < fields.length; i++) {
      var name = /^super_attribute\[([0-9]+)\]$/.exec(fields[i].name || "");
      if (!name) { continue; }
      if (!fields[i].value || fields[i].value === "0") { return ""; }
      chosen[name[1]] = String(fields[i].value);
    }
    var wanted = Object.keys(chosen);
    for (var child in index) {
      if (!Object.prototype.hasOwnProperty.call(index, child)) { continue; }
      var combo = index[child] || {};
      if (wanted.length && Object.keys(combo).length === wanted.length &&
          wanted.every(function (id) { return String(combo[id]) === chosen[id]; })) { return child; }
    }
    return "";
  }

  function listen(root, selector, fn) {
    if (!root) { return; }
    ["change", "input", "click", "keyup"].forEach(function (type) {
      root.addEventListener(type, function (event) {
        if (event.target && event.target.closest && event.target.closest(selector)) { fn(); }
      }, true);
    });
  }

  var adapters = {
    /* BigCommerce Cornerstone 5 and 6 (templates/components/products/product-view.html and
       add-to-cart.html, tags 5.7.1 and 6.21.0): [data-product-sku] is rewritten by the
       theme on each variant choice; qty[] with data-quantity-change buttons;
       #form-action-addToCart, inside .add-to-cart-buttons (with the wallet buttons) in 6.x. */
    cornerstone: {
      detect: function () {
        var form = $(".productView form[data-cart-item-add]");
        return form ? form.closest(".productView") : null;
      },
      setup: function (root) {
        var form = $("form[data-cart-item-add]", root);
        return {
          keys: function () {
            return {sku: text($("[data-product-sku]", root)),
                    product_id: digits(($("input[name=product_id]", form) || {}).value)};
          },
          qty: function () { return ($("input[name='qty[]']", form) || {}).value; },
          watch: function (fn) {
            observe([$("[data-product-sku]", root)], fn);
            listen(form, "[data-quantity-change], input[name='qty[]'], [data-product-option-change]", fn);
          },
          button: $("#form-action-addToCart", form),
          description: $(".form-field--stock", form) || $("#add-to-cart-wrapper", form),
          after: $(".add-to-cart-buttons", form) || $(".form-action", form) || $("#form-action-addToCart", form)
        };
      }
    },
    /* Magento 2 Luma (Magento_Catalog product/view/form.phtml and addtocart.phtml):
       #product_addtocart_form, input[name=product], #qty, #product-addtocart-button. The
       configurable's chosen child: the super_attribute[ID] choices (swatches and dropdowns)
       looked up in the jsonConfig/spConfig "index" (child id -> {attribute id: option id}) of
       the page's text/x-magento-init blocks (JSON, not code); without an index,
       input[name=selected_configurable_option] (configurable.js fills it for dropdowns). */
    luma: {
      detect: function () { return $("#product_addtocart_form"); },
      setup: function (form) {
        var info = $(".product-info-main") || form;
        var index = magentoIndex();
        return {
          keys: function () {
            /* the choices first: configurable.js leaves selected_configurable_option as it was
               when a choice is taken back */
            var chosen = index ? chosenChild(form, index)
              : ($("input[name=selected_configurable_option]", form) || {}).value;
            return {sku: text($(".product.attribute.sku .value", info)),
                    product_id: digits(($("input[name=product]", form) || {}).value),
                    variant_id: digits(chosen)};
          },
          qty: function () { return ($("#qty", form) || {}).value; },
          watch: function (fn) {
            observe([$("input[name=selected_configurable_option]", form),
                     $("[data-role=swatch-options]", form)], fn);
            listen(form, "#qty, .swatch-option, .super-attribute-select", fn);
          },
          button: $("#product-addtocart-button", form),
          buttonLabel: $("#product-addtocart-button span", form),
          description: $(".product-info-stock-sku", info) || $(".box-tocart", form),
          native: $(".product-info-stock-sku .stock", info),  /* "In stock": ours replaces it */
          after: $(".box-tocart .actions", form) || $("#product-addtocart-button", form)
        };
      }
    },
    /* Lightspeed eCom default theme: form#product_configure_form posting to
       /cart/add/{variant_id}/, variants in select#product_configure_variants (or the
       matrix), input[name=quantity], the a.cart / button.cart Add to Cart control. */
    lightspeed: {
      detect: function () { return $("#product_configure_form"); },
      setup: function (form) {
        return {
          keys: function () {
            var select = $("#product_configure_variants", form);
            var action = /\/cart\/add\/([0-9]+)/.exec(form.getAttribute("action") || "");
            return {variant_id: digits(select ? select.value : (action ? action[1] : "")),
                    product_id: digits(form.getAttribute("data-product-id") || "")};
          },
          qty: function () { return ($("input[name=quantity]", form) || {}).value; },
          watch: function (fn) {
            observe([form], function (records) {
              if (records.some(function (r) { return r.type === "attributes" && r.attributeName === "action"; })) { fn(); }
            });
            listen(form, "#product_configure_variants, input[name=quantity], select, .change", fn);
          },
          button: $("a.cart, button.cart, .cart .btn", form),
          buttonLabel: $("a.cart span, button.cart span", form),
          description: $(".product-configure", form) || form.firstElementChild,
          native: $("tr.availability"),  /* the theme's "Availability: In stock" row */
          after: $(".cart", form)
        };
      }
    },
    /* Any theme: mark the product's container with data-backorder-sku (or
       data-backorder-product-id / data-backorder-variant-id), and optionally the places:
       data-backorder-description, data-backorder-shipping, data-backorder-button,
       data-backorder-qty. The script follows changes to those attributes. */
    generic: {
      detect: function () { return $("[data-backorder-sku], [data-backorder-product-id], [data-backorder-variant-id]"); },
      setup: function (root) {
        return {
          keys: function () {
            return {sku: root.getAttribute("data-backorder-sku") || "",
                    product_id: digits(root.getAttribute("data-backorder-product-id")),
                    variant_id: digits(root.getAttribute("data-backorder-variant-id"))};
          },
          qty: function () { return ($("[data-backorder-qty]", root) || {}).value; },
          watch: function (fn) {
            new MutationObserver(fn).observe(root, {attributes: true, attributeFilter: [
              "data-backorder-sku", "data-backorder-product-id", "data-backorder-variant-id"]});
            listen(root, "[data-backorder-qty]", fn);
          },
          button: $("[data-backorder-button]", root),
          slotDescription: $("[data-backorder-description]", root),
          slotShipping: $("[data-backorder-shipping]", root),
          slotAlert: $("[data-backorder-alert]", root),
          description: root.firstElementChild,
          after: $("[data-backorder-button]", root)
        };
      }
    }
  };

  /* ----------------------------------------------------------------- the page */
  function findAdapter() {
    var order = wanted && adapters[wanted] ? [wanted] : ["generic", "cornerstone", "luma", "lightspeed"];
    for (var i = 0; i < order.length; i++) {
      var root = adapters[order[i]].detect();
      if (root) { return {name: order[i], page: adapters[order[i]].setup(root), root: root}; }
    }
    return null;
  }

  function slot(page, name, anchor, before) {
    var given = page["slot" + name.charAt(0).toUpperCase() + name.slice(1)];
    if (given) { return given; }
    var existing = document.querySelector(".backorder-" + name);
    if (existing) { return existing; }
    var el = document.createElement(name === "alert" ? "div" : "p");
    el.className = "backorder-message backorder-" + name;
    if (name === "alert") { el.setAttribute("role", "status"); }
    if (anchor && anchor.parentNode) {
      anchor.parentNode.insertBefore(el, before ? anchor : anchor.nextSibling);
    }
    return el;
  }

  function say(el, message) {
    if (!el) { return; }
    el.textContent = message || "";  /* text only: merchant text can never become markup */
    el.hidden = !message;
  }

  function Button(page) {
    var el = page.button;
    var label = page.buttonLabel || el;
    var isInput = label && label.tagName === "INPUT";
    var original = label ? (isInput ? label.value : label.textContent) : "";
    return {
      show: function (wording, colour) {
        if (!el) { return; }
        if (wording) {
          if (isInput) { label.value = wording; } else { label.textContent = wording; }
          el.classList.add("backorder-button");
          if (/^#[0-9a-fA-F]{3,6}$/.test(colour || "")) {
            el.style.setProperty("background-color", colour);  /* CSSOM, not an inline attribute */
            el.style.setProperty("border-color", colour);
          }
        } else { this.reset(); }
      },
      reset: function () {
        if (!el) { return; }
        if (isInput) { label.value = original; } else { label.textContent = original; }
        el.classList.remove("backorder-button");
        el.style.removeProperty("background-color");
        el.style.removeProperty("border-color");
      }
    };
  }

  function pick(items, keys) {
    var match = function (field) {
      return keys[field] ? items.filter(function (item) { return item[field] === keys[field]; }) : [];
    };
    var found = match("sku");
    if (!found.length) { found = match("variant_id"); }
    if (!found.length && items.length === 1) { found = items; }
    return found[0] || null;
  }

  function start() {
    var found = findAdapter();
    if (!found || !store) { return; }
    var page = found.page;
    var button = Button(page);
    var places = {
      description: slot(page, "description", page.description, true),
      shipping: slot(page, "shipping", page.after, false)
    };
    places.alert = slot(page, "alert", places.shipping, false);
    var root = found.root;
    var asked = "";
    var timer = null;
    var sequence = 0;

    /* The theme's own stock line ("In stock" on a backordered item) hides while ours shows. */
    function native(shown) {
      if (!page.native) { return; }
      if (shown) { page.native.style.removeProperty("display"); }
      else { page.native.style.setProperty("display", "none"); }  /* CSSOM: allowed by CSP */
    }

    function clear(state) {
      say(places.description, ""); say(places.shipping, ""); say(places.alert, "");
      native(true);
      button.reset();
      root.setAttribute("data-backorder-state", state);
    }

    function show(item) {
      var m = item.messages || {};
      say(places.description, m.inventory_description);
      native(!m.inventory_description);
      say(places.shipping, m.shipping_description);
      var when = item.ships ? item.ships.when : "";
      /* the mixed-cart alert only when the quantity is part stock, part backorder */
      var mixed = item.status !== "backorder" && when === "later" ? m.mixed_cart_alert : "";
      say(places.alert, when === "never" && item.purchasable ? m.over_threshold_alert : mixed);
      button.show(m.button_text, m.button_color);
      root.setAttribute("data-backorder-state", item.status);
    }

    function refresh() {
      var keys = page.keys();
      var qty = parseInt(page.qty() || "1", 10);
      var params = new URLSearchParams();
      ["sku", "product_id", "variant_id"].forEach(function (field) {
        if (keys[field]) { params.append(field, keys[field]); }
      });
      if (!params.toString()) { return; }
      if (qty > 0 && qty <= 100000) { params.append("qty", String(qty)); }
      var query = params.toString();
      if (query === asked) { return; }
      asked = query;
      var mine = ++sequence;
      var controller = window.AbortController ? new AbortController() : null;
      var stop = setTimeout(function () { if (controller) { controller.abort(); } }, TIMEOUT);
      fetch(api + "/storefront/" + encodeURIComponent(store) + "/items?" + query, {
        credentials: "omit", mode: "cors", signal: controller ? controller.signal : undefined
      }).then(function (response) {
        if (response.status === 404) { return {items: []}; }
        if (!response.ok) { throw new Error("backorder API: " + response.status); }
        return response.json();
      }).then(function (body) {
        if (mine !== sequence) { return; }
        var item = pick(body.items || [], keys);
        if (item) { show(item); } else { clear("unknown"); }
      }).catch(function () {
        if (mine !== sequence) { return; }
        asked = "";  /* ask again on the next change */
        clear("offline");  /* the page works as the theme made it */
      }).then(function () { clearTimeout(stop); });
    }

    function soon() {
      clearTimeout(timer);
      timer = setTimeout(refresh, 120);
    }

    page.watch(soon);
    window.__backorder = {refresh: function () { asked = ""; refresh(); }, theme: found.name};
    refresh();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
