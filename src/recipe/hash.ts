import { sha256OfBytes } from '../io/hash';
import { canonicalJson } from './canonical';
import type { NormalizedRecipe } from './schema';

/** Content hash of (base model, normalized recipe): the same pair always names the same artifact. */
export function recipeHash(baseSha256: string, recipe: NormalizedRecipe): string {
  const { name: _name, description: _description, ...substance } = recipe;
  return sha256OfBytes(new TextEncoder().encode(canonicalJson({ base: baseSha256, recipe: substance })));
}
