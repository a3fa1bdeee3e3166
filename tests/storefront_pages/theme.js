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
      /* product-details.js: shows the options, and an option change posts the form to
         /remote/v1/product-attributes/{product_id} and rewrites [data-product-sku] */
      var form = document.querySelector("form[data-cart-item-add]");
      form.addEventListener("submit", added);
      var options = form.querySelector("[data-product-option-change]");
      options.removeAttribute("hidden");
      options.addEventListener("change", function () {
        var id = form.querySelector("input[name=product_id]").value;
        fetch("/remote/v1/product-attributes/" + id, {method: "POST", body: new FormData(form)})
          .then(function (r) { return r.json(); })
          .then(function (body) { document.querySelector("[data-product-sku]").textContent = body.data.sku; });
      });
      form.querySelectorAll("[data-quantity-change] button").forEach(function (b) {
        b.addEventListener("click", function (e) {
          e.preventDefault();
          var input = form.querySelector("input[name='qty[]']");
          var n = parseInt(input.value, 10) + (b.getAttribute("data-action") === "inc" ? 1 : -1);
          input.value = String(Math.max(1, n));
        });
      });
    } else if (kind === "luma") {
      /* validate-product.js enables the button; swatch-renderer.js draws the swatches from its
         x-magento-init jsonConfig and, on a click, marks the attribute's data-option-selected
         and fills super_attribute[ID] (it leaves selected_configurable_option alone) */
      var lform = document.getElementById("product_addtocart_form");
      lform.addEventListener("submit", added);
      lform.querySelector("#product-addtocart-button").disabled = false;
      var init = document.querySelector("script[type='text/x-magento-init']");
      var holder = lform.querySelector("[data-role=swatch-options]");
      var dropdown = lform.querySelector("select.super-attribute-select");
      if (init && dropdown) {
        /* configurable.js: fills the select from spConfig; choosing the last one puts the
           child's id in selected_configurable_option, taking it back leaves it there */
        var sp = JSON.parse(init.textContent)["#product_addtocart_form"].configurable.spConfig;
        sp.attributes["93"].options.forEach(function (option) {
          var item = document.createElement("option");
          item.value = option.id;
          item.textContent = option.label;
          dropdown.appendChild(item);
        });
        dropdown.addEventListener("change", function () {
          var option = sp.attributes["93"].options.filter(function (o) { return o.id === dropdown.value; })[0];
          if (option) { lform.querySelector("input[name=selected_configurable_option]").value = option.products[0]; }
        });
      }
      if (init && holder) {
        var config = JSON.parse(init.textContent)["[data-role=swatch-options]"]["Magento_Swatches/js/swatch-renderer"].jsonConfig;
        Object.keys(config.attributes).forEach(function (attributeId) {
          var attribute = config.attributes[attributeId];
          var box = document.createElement("div");
          box.className = "swatch-attribute " + attribute.code;
          box.setAttribute("data-attribute-code", attribute.code);
          box.setAttribute("data-attribute-id", attributeId);
          var label = document.createElement("span");
          label.className = "swatch-attribute-label";
          label.textContent = attribute.label;
          var list = document.createElement("div");
          list.className = "swatch-attribute-options clearfix";
          list.setAttribute("role", "listbox");
          var input = document.createElement("input");
          input.className = "swatch-input super-attribute-select";
          input.name = "super_attribute[" + attributeId + "]";
          input.type = "text";
          input.value = "";
          attribute.options.forEach(function (option) {
            var swatch = document.createElement("div");
            swatch.className = "swatch-option text";
            swatch.setAttribute("role", "option");
            swatch.setAttribute("tabindex", "0");
            swatch.setAttribute("data-option-type", "0");
            swatch.setAttribute("data-option-id", option.id);
            swatch.setAttribute("data-option-label", option.label);
            swatch.textContent = option.label;
            swatch.addEventListener("click", function () {
              list.querySelectorAll(".selected").forEach(function (o) { o.classList.remove("selected"); });
              swatch.classList.add("selected");
              box.setAttribute("data-option-selected", option.id);
              input.value = option.id;
            });
            list.appendChild(swatch);
          });
          box.appendChild(label);
          box.appendChild(list);
          box.appendChild(input);
          holder.appendChild(box);
        });
      }
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
