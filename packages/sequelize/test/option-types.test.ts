import type { Options } from 'sequelize'
import { Sequelize } from 'sequelize'
import { describe, expect, expectTypeOf, test } from 'vitest'
import { addIamHooks, type IamSequelizeOptions, withIam } from '../src/index.js'

// Type tests: `npx tsc -p packages/sequelize` fails if one of these stops compiling (and the
// expected-error lines fail if the mistake they hold compiles). At run time each call is made
// too, so the values match the types. withIam used to take and return plain `Options`, so a
// framework's own keys (NestJS `autoLoadModels`, sequelize-typescript `models`) were refused.

/** The shape of @nestjs/sequelize's `SequelizeModuleOptions`: Sequelize's options plus its own keys. */
interface ModuleOptions extends Partial<Options> {
  autoLoadModels?: boolean
  synchronize?: boolean
  retryAttempts?: number
  models?: (string | (new () => object))[]
}
const forRoot = (options: ModuleOptions): ModuleOptions => options
const iam = { region: 'eu-west-1', credentials: { accessKeyId: 'AKIATYPES', secretAccessKey: 'types' } }
const HOST = 'mydb.abc123.eu-west-1.rds.amazonaws.com'

describe('withIam types', () => {
  test("an object literal with a framework's own keys: they are kept, `iam` is gone, and the result fits the framework's options type", () => {
    class User {}
    const out = withIam({
      dialect: 'postgres',
      host: HOST,
      username: 'app',
      iam,
      autoLoadModels: true,
      models: [User],
    })
    expectTypeOf(out).toHaveProperty('autoLoadModels').toEqualTypeOf<boolean>()
    expectTypeOf(out).not.toHaveProperty('iam')
    expect(forRoot(out).autoLoadModels).toBe(true)
    expect(out).not.toHaveProperty('iam')
  })

  test("options typed as the framework's type, spread with `iam`", () => {
    const mine: ModuleOptions = { dialect: 'mysql', host: HOST, username: 'app', synchronize: false }
    const out = withIam({ ...mine, iam })
    expectTypeOf(out).toMatchTypeOf<ModuleOptions>()
    expect(forRoot(out).synchronize).toBe(false)
    const typed: IamSequelizeOptions<ModuleOptions> = { ...mine, iam }
    expectTypeOf(withIam(typed)).toMatchTypeOf<ModuleOptions>()
  })

  test('the URL overload keeps the keys of its options the same way', () => {
    const out = withIam(`postgres://app@${HOST}:5432/app`, { iam, autoLoadModels: true, retryAttempts: 1 })
    expectTypeOf(out).toHaveProperty('retryAttempts').toEqualTypeOf<number>()
    expectTypeOf(out).not.toHaveProperty('iam')
    expect(forRoot(out).retryAttempts).toBe(1)
    expectTypeOf(withIam(`postgres://app@${HOST}/app`)).toMatchTypeOf<Options>()
  })

  test('the result is what new Sequelize(...) takes, and addIamHooks returns the instance type it got', async () => {
    const sequelize = new Sequelize(withIam({ dialect: 'postgres', host: HOST, username: 'app', iam }))
    await sequelize.close()
    const other = new Sequelize({ dialect: 'postgres', host: HOST, username: 'app', logging: false })
    expectTypeOf(addIamHooks(other, iam)).toEqualTypeOf<Sequelize>()
    await other.close()
  })

  test('mistakes in `iam` are still type errors (and refused at run time)', () => {
    const misspelled = () =>
      // @ts-expect-error misspelled iam option
      withIam({ dialect: 'postgres', host: HOST, username: 'app', iam: { regoin: 'eu-west-1' } })
    expect(misspelled).toThrow(/iam\.regoin/)
    const notAnOption = () =>
      // @ts-expect-error iam is true or an options object
      withIam({ dialect: 'postgres', host: HOST, username: 'app', iam: 'yes' })
    expect(notAnOption).toThrow(/iam must be/)
    const wrongType = () =>
      // @ts-expect-error a Sequelize option of the wrong type
      withIam({ dialect: 'postgres', host: HOST, username: 'app', port: { n: 1 }, iam })
    expect(wrongType).toThrow(/port/)
  })
})
