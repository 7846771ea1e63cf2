/** True when the string holds a `{{`: its value is known only once the template is rendered (model/template.ts). */
export function hasTemplate(text: string): boolean {
  return text.includes('{{');
}
