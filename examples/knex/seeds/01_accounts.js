/** @param {import('knex').Knex} knex */
export async function seed(knex) {
  await knex('transfers').del()
  await knex('accounts').del()
  await knex('accounts').insert([
    { owner: 'alice', balance: 100 },
    { owner: 'bob', balance: 50 },
  ])
}
