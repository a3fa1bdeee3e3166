/* What the real themes' own scripts do, as far as backorder.js depends on it. */
(function () {
  "use strict";
  window.__violations = [];
  document.addEventListener("securitypolicyviolation", function (e) {
    window.__violations.push(e.violatedDirective + " " + e.blockedURI);
  });
  window.__added = 0;
  function added(e) { e.preventDefault(); window.__added += 1; document.getElementById("cart-count").textContent = String(window.__added); }
  var kind = document.currentScript.getAttribute("data-theme-kind");
  document.addEventListener("DOMContentLoaded", function () {
    if (kind === "cornerstone") {
      /* product-details.js: an option change fetches the variant and rewrites [data-product-sku] */
      var form = document.querySelector("form[data-cart-item-add]");
      form.addEventListener("submit", added);
      var select = form.querySelector("[data-product-option-change] select");
      if (select) { select.addEventListener("change", function () {
        setTimeout(function () { document.querySelector("[data-product-sku]").textContent = select.value; }, 50);
      }); }
      form.querySelectorAll("[data-quantity-change] button").forEach(function (b) {
        b.addEventListener("click", function (e) {
          e.preventDefault();
          var input = form.querySelector("input[name='qty[]']");
          var n = parseInt(input.value, 10) + (b.getAttribute("data-action") === "inc" ? 1 : -1);
          input.value = String(Math.max(1, n));
        });
      });
    } else if (kind === "luma") {
      /* swatch-renderer.js: a swatch click stores the chosen child product's id */
      var lform = document.getElementById("product_addtocart_form");
      lform.addEventListener("submit", added);
      lform.querySelectorAll(".swatch-option").forEach(function (s) {
        s.addEventListener("click", function () {
          lform.querySelectorAll(".swatch-option").forEach(function (o) { o.classList.remove("selected"); });
          s.classList.add("selected");
          lform.querySelector("input[name=selected_configurable_option]").value = s.getAttribute("data-option-product");
        });
      });
    } else if (kind === "lightspeed") {
      /* {{ product_configure }}: choosing a variant reloads the page on that variant */
      var sform = document.getElementById("product_configure_form");
      sform.querySelector("a.cart").addEventListener("click", added);
      sform.querySelector("#product_configure_variants").addEventListener("change", function (e) {
        var url = new URL(window.location.href);
        url.searchParams.set("variant", e.target.value);
        window.location.href = url.toString();
      });
    } else {
      var product = document.querySelector("[data-backorder-sku]");
      product.querySelector("[data-backorder-button]").addEventListener("click", added);
      product.querySelector(".variant-picker").addEventListener("change", function (e) {
        product.setAttribute("data-backorder-sku", e.target.value);
      });
    }
  });
}());
