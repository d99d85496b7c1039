// Lints the web pages' scripts (src/voxa/web/static/js). The point is the
// no-unsanitized rules: request data must never become markup, so any
// innerHTML/outerHTML/insertAdjacentHTML/document.write with a non-literal
// value fails `npm run lint` (and tests/unit/test_js_lint.py).
import nounsanitized from "eslint-plugin-no-unsanitized";

export default [
  {
    files: ["src/voxa/web/static/js/**/*.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module" },
    plugins: { "no-unsanitized": nounsanitized },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      "no-unsanitized/method": "error",
      "no-unsanitized/property": "error",
      "no-eval": "error",
      "no-implied-eval": "error",
      "no-new-func": "error",
      "no-script-url": "error",
      // Stricter than no-unsanitized: no markup strings at all (clear with
      // replaceChildren()), and nothing a strict CSP would block.
      "no-restricted-syntax": ["error",
        {
          selector: "AssignmentExpression > MemberExpression.left[property.name=/^(innerHTML|outerHTML)$/]",
          message: "Build nodes (createElement/textContent); clear with replaceChildren().",
        },
        {
          selector: "CallExpression[callee.property.name=/^(insertAdjacentHTML|createContextualFragment)$/]",
          message: "Build nodes (createElement/textContent) instead of parsing markup.",
        },
        {
          selector: "CallExpression[callee.object.name='document'][callee.property.name=/^write(ln)?$/]",
          message: "document.write is not allowed.",
        },
        {
          selector: "CallExpression[callee.property.name='setAttribute'][arguments.0.value=/^(on|style$)/i]",
          message: "Inline handlers and style attributes are blocked by the CSP: use addEventListener / CSS classes.",
        },
      ],
    },
  },
  {
    // The widget is a classic script embedded in other sites' pages.
    files: ["src/voxa/web/static/js/widget.js"],
    languageOptions: { sourceType: "script" },
  },
];
