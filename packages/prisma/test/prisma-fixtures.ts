import { createRequire } from 'node:module'

/** The part of a generated PrismaClient the tests use (the generated types exist only after `prisma generate`). */
export interface PrismaClientLike {
  $queryRawUnsafe<T = unknown>(sql: string, ...values: unknown[]): Promise<T>
  $executeRawUnsafe(sql: string, ...values: unknown[]): Promise<number>
  $queryRaw<T = unknown>(strings: TemplateStringsArray, ...values: unknown[]): Promise<T>
  $transaction<T>(fn: (tx: PrismaClientLike) => Promise<T>, options?: object): Promise<T>
  $transaction<T extends unknown[]>(operations: [...T]): Promise<unknown[]>
  $disconnect(): Promise<void>
  $connect(): Promise<void>
  author: ModelLike
  post: ModelLike
}

// biome-ignore lint/suspicious/noExplicitAny: the generated model API is typed only in the generated client.
type ModelMethod = (args?: any) => Promise<any>
interface ModelLike {
  create: ModelMethod
  findUnique: ModelMethod
  findMany: ModelMethod
  updateMany: ModelMethod
  count: ModelMethod
  delete: ModelMethod
  deleteMany: ModelMethod
}

export type PrismaClientClass = new (options: {
  adapter: unknown
  [option: string]: unknown
}) => PrismaClientLike

const require = createRequire(import.meta.url)

/** The PrismaClient generated from `test/fixtures/<flavour>/schema.prisma` by the globalSetup. */
export function loadPrismaClient(flavour: 'pg' | 'mysql'): PrismaClientClass {
  return (require(`./fixtures/${flavour}/generated/index.js`) as { PrismaClient: PrismaClientClass })
    .PrismaClient
}

/** SQL for the fixture schema's tables (Author 1—n Post), per engine, optionally in a PostgreSQL schema. */
export function schemaSql(
  engine: 'postgres' | 'mysql',
  pgSchema?: string,
): { create: string[]; drop: string[] } {
  if (engine === 'postgres') {
    const q = pgSchema ? `"${pgSchema}".` : ''
    return {
      create: [
        `create table if not exists ${q}"Author" (id serial primary key, email text not null unique, name text not null)`,
        `create table if not exists ${q}"Post" (id serial primary key, title text not null, done boolean not null default false, "authorId" integer not null references ${q}"Author"(id))`,
      ],
      drop: [`drop table if exists ${q}"Post"`, `drop table if exists ${q}"Author"`],
    }
  }
  return {
    create: [
      'create table if not exists `Author` (id int auto_increment primary key, email varchar(191) not null unique, name varchar(191) not null)',
      'create table if not exists `Post` (id int auto_increment primary key, title varchar(191) not null, done boolean not null default false, authorId int not null, foreign key (authorId) references `Author`(id))',
    ],
    drop: ['drop table if exists `Post`', 'drop table if exists `Author`'],
  }
}
